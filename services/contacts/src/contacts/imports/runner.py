"""The contacts worker's import loop: claims queued jobs and applies them batch by batch.

Each batch is one unit of work (its rows, their audit entries and events, and the job's progress
commit together), so a crash loses at most the batch in hand and the next runner resumes after
the last committed one; a row is never applied twice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contacts.imports import jobs, service
from crm_shared.db import unit_of_work
from crm_shared.messaging.consumer import is_transient
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.observability import context
from crm_shared.worker import Worker

log = logging.getLogger(__name__)

BATCH_SIZE = 500
POLL_SECONDS = 0.5


class ImportRunner:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        *,
        phone_region: str | None,
        batch_size: int = BATCH_SIZE,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.phone_region = phone_region
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.token = uuid.uuid4()  # this runner's claim on a job

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                job_id = await self._claim()
                if job_id is not None:
                    await self._run_job(job_id, stop)
                    continue
            except Exception as exc:
                if is_transient(exc):
                    log.warning("import runner: database unavailable, retrying", extra={"error": repr(exc)})
                else:
                    log.exception("import runner pass failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def _claim(self) -> uuid.UUID | None:
        async with unit_of_work(self.sessions) as session:
            return await jobs.claim_job(session, self.token)

    async def _run_job(self, job_id: uuid.UUID, stop: asyncio.Event) -> None:
        async with unit_of_work(self.sessions) as session:
            job = await service.get_job(session, job_id)
            correlation_id = job.correlation_id
        log.info("import started", extra={"job": str(job_id)})
        # Audit entries and events of the rows carry the upload's correlation id.
        with context.bind(correlation_id=correlation_id, causation_id=None, traceparent=None):
            while not stop.is_set():
                try:
                    async with unit_of_work(self.sessions, self.publisher.dispatch) as session:
                        more = await jobs.apply_next_batch(
                            session, job_id, self.token, batch_size=self.batch_size, phone_region=self.phone_region
                        )
                except Exception as exc:
                    if is_transient(exc):
                        raise  # retried by the next pass: the job stays ours until the lease runs out
                    log.exception("import failed", extra={"job": str(job_id)})
                    async with unit_of_work(self.sessions) as session:
                        await jobs.fail_job(session, job_id, f"{type(exc).__name__}: {exc}"[:2000])
                    return
                if not more:
                    log.info("import finished", extra={"job": str(job_id)})
                    return
        async with unit_of_work(self.sessions) as session:
            await jobs.release_job(session, job_id, self.token)


def import_runner(worker: Worker, stop: asyncio.Event):
    """The background loop the contacts worker runs (crm_shared.worker.Background)."""
    settings = worker.settings
    runner = ImportRunner(worker.sessions, worker.publisher, phone_region=settings.default_phone_region)
    return runner.run(stop)
