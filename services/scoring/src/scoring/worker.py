"""The scoring worker: folds contact and feedback events into scores, relays the outbox."""

from crm_shared.worker import run_worker
from scoring.config import Settings
from scoring.events.handlers import consumers


def main() -> None:
    run_worker(Settings, consumers)
