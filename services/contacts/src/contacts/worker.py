"""The contacts worker: relays its outbox, applies bulk imports and sweeps tiers (it consumes no events)."""

from contacts.config import Settings
from contacts.imports.runner import import_runner
from contacts.tiers.sweeper import tier_sweeper
from crm_shared.worker import Background, ConsumerSpec, run_worker


def consumers() -> list[ConsumerSpec]:
    return []


def background() -> list[Background]:
    return [import_runner, tier_sweeper]


def main() -> None:
    run_worker(Settings, consumers, background)
