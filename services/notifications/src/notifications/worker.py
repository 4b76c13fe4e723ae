"""The notifications worker: turns feedback and score events into tasks, relays the outbox,
sends messages and webhook deliveries."""

from crm_shared.worker import Background, run_worker
from notifications.config import Settings
from notifications.events.handlers import consumers
from notifications.messages.delivery import delivery_loop


def background() -> list[Background]:
    return [delivery_loop]


def main() -> None:
    run_worker(Settings, consumers, background)
