"""The contacts worker: relays its outbox (it consumes no other service's events yet)."""

from contacts.config import Settings
from crm_shared.worker import ConsumerSpec, run_worker


def consumers() -> list[ConsumerSpec]:
    return []


def main() -> None:
    run_worker(Settings, consumers)
