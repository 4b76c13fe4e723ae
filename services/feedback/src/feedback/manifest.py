"""How feedback declares itself to the platform (crm_shared.services): ports, topic, consumer groups."""

from crm_shared.contracts import Topics
from crm_shared.services import ServiceManifest

WORKER_GROUP = "feedback-worker"
CASES_GROUP = "feedback-cases"

MANIFEST = ServiceManifest(
    name="feedback",
    api_port=8002,
    metrics_port=9102,
    topic=Topics.feedback,
    consumer_groups=(WORKER_GROUP, CASES_GROUP),
)
