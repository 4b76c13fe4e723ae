"""A durable deadline timer: work fires at its deadline itself, not on the next poll.

The loop sleeps until the earliest pending deadline and then fires every row due, one batch per
transaction (events leave right after the commit). A new or earlier deadline wakes it at once: a
trigger on the table NOTIFYs a channel on commit, and the timer LISTENs on its own connection
(crm_shared.wakeup). A missed notification (listener reconnecting) costs at most `max_sleep` seconds. Every deadline
lives in the database, so a restarted worker starts by firing whatever fell due while it was
down. Two workers split the due rows with `FOR UPDATE SKIP LOCKED` (in `fire_due`): a row fires once.

Used for deadlines such as SLA breaches and task escalation.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.db import unit_of_work, utcnow
from crm_shared.failures import is_transient
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.observability import context
from crm_shared.wakeup import WakeUp

log = logging.getLogger(__name__)

# Fires up to `limit` rows due at `now` (locked with SKIP LOCKED), stages their events; returns how many.
FireDue = Callable[[AsyncSession, datetime, int], Awaitable[int]]
# The earliest pending deadline, or None.
NextDeadline = Callable[[AsyncSession], Awaitable[datetime | None]]


class DeadlineTimer:
    max_sleep = 30.0
    batch_size = 200
    # When another worker holds the due rows (SKIP LOCKED found none), wait this long for its
    # commit instead of spinning on a deadline that is already past.
    contended = 0.05
    retry = 1.0

    def __init__(
        self,
        name: str,
        channel: str,
        sessions: async_sessionmaker[AsyncSession],
        publisher: EventPublisher,
        database_url: str,
        fire_due: FireDue,
        next_deadline: NextDeadline,
        *,
        tls: ssl.SSLContext | bool | None = None,
    ) -> None:
        self.name = name
        self.channel = channel
        self.sessions = sessions
        self.publisher = publisher
        self._fire_due = fire_due
        self._next_deadline = next_deadline
        self.wake = WakeUp(
            database_url, channel, log=log, cannot_listen=f"{name}: cannot listen for deadline changes", tls=tls
        )

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                await self.wake.listen()
                # Cleared before reading the deadline: a change committed after this read sets it again.
                self.wake.clear()
                try:
                    fired = await self.fire_due()
                    async with unit_of_work(self.sessions) as session:
                        deadline = await self._next_deadline(session)
                    if deadline is None:
                        delay = self.max_sleep
                    else:
                        delay = min(self.max_sleep, (deadline - utcnow()).total_seconds())
                        if delay <= 0 and not fired:
                            delay = self.contended
                except Exception as exc:
                    if is_transient(exc):
                        log.warning(f"{self.name}: database unavailable, retrying", extra={"error": repr(exc)})
                    else:
                        log.exception(f"{self.name} pass failed")
                    delay = self.retry
                if delay > 0:
                    await self.wake.sleep(stop, delay)
        finally:
            await self.wake.close()

    async def fire_due(self) -> int:
        """Fires every row due now, batch by batch; returns how many."""
        total = 0
        with context.bind(correlation_id=f"{self.name}-{uuid.uuid4()}", causation_id=None, traceparent=None):
            while True:
                async with unit_of_work(self.sessions, self.publisher.dispatch) as session:
                    fired = await self._fire_due(session, utcnow(), self.batch_size)
                total += fired
                if fired < self.batch_size:
                    if total:
                        log.info(f"{self.name} fired", extra={"count": total})
                    return total
