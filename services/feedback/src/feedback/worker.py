"""The feedback worker: keeps the customer projection, relays the outbox and fires SLA breaches."""

from crm_shared.worker import Background, run_worker
from feedback.config import Settings
from feedback.events.handlers import consumers
from feedback.sla.timer import sla_timer


def background() -> list[Background]:
    return [sla_timer]


def main() -> None:
    run_worker(Settings, consumers, background)
