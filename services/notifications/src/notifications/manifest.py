"""How notifications declares itself to the platform (crm_shared.services): ports, topic, consumer groups."""

from crm_shared.contracts import Topics
from crm_shared.services import ServiceManifest

WORKER_GROUP = "notifications-worker"
WEBHOOKS_GROUP = "notifications-webhooks"

MANIFEST = ServiceManifest(
    name="notifications",
    api_port=8004,
    metrics_port=9104,
    topic=Topics.outreach,
    consumer_groups=(WORKER_GROUP, WEBHOOKS_GROUP),
)
