"""The scoring worker's rescore loop (crm_shared.worker.Background): one batch per transaction."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.db import unit_of_work
from crm_shared.failures import is_transient
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.worker import Worker
from scoring.scores import rescoring
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
