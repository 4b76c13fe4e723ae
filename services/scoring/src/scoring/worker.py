"""The scoring worker: folds contact and feedback events into scores, runs rescores and the daily
run (time-aware scoring), relays the outbox."""

from crm_shared.worker import Background, run_worker
from scoring.config import Settings
from scoring.events.handlers import consumers
from scoring.scores.runner import daily_schedule, rescore_runner


def background() -> list[Background]:
    return [rescore_runner, daily_schedule]


def main() -> None:
    run_worker(Settings, consumers, background)
