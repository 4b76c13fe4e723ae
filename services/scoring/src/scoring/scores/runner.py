"""The scoring worker's background loops (crm_shared.worker.Background): the rescore loop (one
batch of a rescore or daily run per transaction) and the daily schedule that queues the daily run."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.db import unit_of_work, utcnow
from crm_shared.failures import is_transient
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.worker import Worker
from scoring.config import Settings
from scoring.scores import daily, rescoring
from scoring.scores.repository import ScoreRepository

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class RescoreRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        *,
        batch_size: int = rescoring.BATCH_SIZE,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with unit_of_work(self.sessions, self.publisher.dispatch) as session:
                    worked = await rescoring.run_next_batch(session, self.batch_size)
                if worked:
                    continue
            except Exception as exc:
                if is_transient(exc):
                    log.warning("rescore runner: database unavailable, retrying", extra={"error": repr(exc)})
                else:
                    log.exception("rescore batch failed")
                    await self._fail(f"{type(exc).__name__}: {exc}"[:2000])
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def _fail(self, error: str) -> None:
        """A batch that fails for a reason other than the database would fail again: stop the run."""
        try:
            async with unit_of_work(self.sessions) as session:
                run = await ScoreRepository(session).claim_run()
                if run is not None:
                    run.status, run.error = "failed", error
        except Exception:
            log.exception("rescore runner could not record the failure")


def rescore_runner(worker: Worker, stop: asyncio.Event):
    """The background loop the scoring worker runs."""
    return RescoreRunner(worker.sessions, worker.publisher).run(stop)


class DailySchedule:
    """Queues the day's daily run once `run_at` (UTC) has passed; every worker may run one, the
    run's `schedule_key` makes it one per day. `clock` is injectable (tests move the day)."""

    poll_seconds = 60.0

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        run_at: time,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.run_at = run_at
        self.clock = clock
        self.last_key: str | None = None

    async def tick(self) -> bool:
        """Queue today's run if it is due and not queued yet; True if this call queued it."""
        now = self.clock()
        key = daily.schedule_key(now, self.run_at)
        if key is None or key == self.last_key:
            return False
        async with unit_of_work(self.sessions) as session:
            queued = await daily.schedule(session, now, key)
        self.last_key = key
        if queued:
            log.info("daily run queued", extra={"schedule_key": key})
        return queued

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:
                if is_transient(exc):
                    log.warning("daily schedule: database unavailable, retrying", extra={"error": repr(exc)})
                else:
                    log.exception("daily schedule failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass


def daily_schedule(worker: Worker, stop: asyncio.Event):
    """The background loop that queues the daily run (off with SCORING_DAILY_RUN_ENABLED=false)."""
    settings = worker.settings
    assert isinstance(settings, Settings)
    if not settings.daily_run_enabled:
        return stop.wait()
    return DailySchedule(worker.sessions, settings.daily_run_at).run(stop)
