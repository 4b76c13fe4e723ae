"""The notifications worker: turns feedback and score events into tasks, relays the outbox."""

from crm_shared.worker import run_worker
from notifications.config import Settings
from notifications.events.handlers import consumers


def main() -> None:
    run_worker(Settings, consumers)
