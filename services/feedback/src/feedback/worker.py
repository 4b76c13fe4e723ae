"""The feedback worker: keeps the customer projection and relays the outbox."""

from crm_shared.worker import run_worker
from feedback.config import Settings
from feedback.events.handlers import consumers


def main() -> None:
    run_worker(Settings, consumers)
