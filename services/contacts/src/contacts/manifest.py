"""How contacts declares itself to the platform (crm_shared.services): ports, topic, consumer groups."""

from crm_shared.contracts import Topics
from crm_shared.services import ServiceManifest

MANIFEST = ServiceManifest(
    name="contacts",
    api_port=8001,
    metrics_port=9101,
    topic=Topics.contacts,
)
