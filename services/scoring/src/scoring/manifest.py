"""How scoring declares itself to the platform (crm_shared.services): ports, topic, consumer groups, crmctl rescore and daily-run."""

from crm_shared.contracts import Topics
from crm_shared.services import Command, ServiceManifest

WORKER_GROUP = "scoring-worker"
INDICATORS_GROUP = "scoring-indicators"

MANIFEST = ServiceManifest(
    name="scoring",
    api_port=8003,
    metrics_port=9103,
    topic=Topics.scores,
    consumer_groups=(WORKER_GROUP, INDICATORS_GROUP),
    commands=(
        Command("rescore", "recompute every score (scoring api)", "scoring.commands:rescore"),
        Command("daily-run", "evaluate every customer as of now (scoring api)", "scoring.commands:daily_run"),
    ),
)
