"""The worker's SLA timer: breaches fire at the deadline itself, not on the next poll.

It sleeps until the earliest running deadline and then breaches every clock due, one batch per
transaction (the events leave right after the commit). A new or moved deadline wakes it early:
the `sla_clocks` trigger NOTIFYs on commit and the timer LISTENs on its own connection. A missed
notification (listener reconnecting) costs at most `MAX_SLEEP_SECONDS`. Everything lives in the
database, so a restarted worker simply starts by firing whatever fell due while it was down.
Two workers split the due clocks with SKIP LOCKED: a clock fires once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.db import unit_of_work, utcnow
from crm_shared.messaging.consumer import is_transient
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.observability import context
from crm_shared.worker import Worker
from feedback.sla import service

log = logging.getLogger(__name__)

CHANNEL = "sla_clocks"
MAX_SLEEP_SECONDS = 30.0
BATCH_SIZE = 200
# When another worker holds the due clocks (SKIP LOCKED found none), wait this long for its
# commit instead of spinning on a deadline that is already past.
CONTENDED_SECONDS = 0.05
RETRY_SECONDS = 1.0


class SlaTimer:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], publisher: EventPublisher, database_url: str
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.wake = asyncio.Event()
        self.listener: asyncpg.Connection | None = None

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self._ensure_listening()
                # Cleared before reading the deadline: a change committed after this read sets it again.
                self.wake.clear()
                try:
                    fired = await self.fire_due()
                    async with unit_of_work(self.sessions) as session:
                        deadline = await service.next_deadline(session)
                    if deadline is None:
                        delay = MAX_SLEEP_SECONDS
                    else:
                        delay = min(MAX_SLEEP_SECONDS, (deadline - utcnow()).total_seconds())
                        if delay <= 0 and not fired:
                            delay = CONTENDED_SECONDS
                except Exception as exc:
                    if is_transient(exc):
                        log.warning("sla timer: database unavailable, retrying", extra={"error": repr(exc)})
                    else:
                        log.exception("sla timer pass failed")
                    delay = RETRY_SECONDS
                if delay > 0:
                    await self._sleep(stop, delay)
        finally:
            await self._close_listener()

    async def fire_due(self) -> int:
        """Breaches every clock due now; returns how many."""
        total = 0
        with context.bind(correlation_id=f"sla-timer-{uuid.uuid4()}", causation_id=None, traceparent=None):
            while True:
                async with unit_of_work(self.sessions, self.publisher.dispatch) as session:
                    fired = await service.breach_due(session, now=utcnow(), limit=BATCH_SIZE)
                total += fired
                if fired < BATCH_SIZE:
                    if total:
                        log.info("sla breaches fired", extra={"count": total})
                    return total

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _ensure_listening(self) -> None:
        if self.listener is not None and not self.listener.is_closed():
            return
        try:
            self.listener = await asyncpg.connect(self.dsn)
            await self.listener.add_listener(CHANNEL, self._notified)
            self.listener.add_termination_listener(lambda _connection: self.wake.set())
        except (OSError, asyncpg.PostgresError) as exc:
            # The cap on the sleep still bounds the delay; the next pass retries.
            log.warning("sla timer: cannot listen for deadline changes", extra={"error": repr(exc)})
            self.listener = None

    def _notified(self, *_: object) -> None:
        self.wake.set()

    async def _close_listener(self) -> None:
        if self.listener is not None and not self.listener.is_closed():
            await self.listener.close()


def sla_timer(worker: Worker, stop: asyncio.Event):
    """The background loop the feedback worker runs (crm_shared.worker.Background)."""
    worker.add_pending_timer("sla_clocks", service.pending_clocks)
    return SlaTimer(worker.sessions, worker.publisher, worker.settings.database_url).run(stop)
