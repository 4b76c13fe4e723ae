"""A durable deadline timer: work fires at its deadline itself, not on the next poll.

The loop sleeps until the earliest pending deadline and then fires every row due, one batch per
transaction (events leave right after the commit). An earlier deadline wakes it at once: a
trigger on the table NOTIFYs a channel on commit, and the timer LISTENs on its own connection
(crm_shared.wakeup). When the payload names the deadline (epoch seconds), a later one costs
nothing and an earlier one only moves the plan; an empty payload makes it re-read the earliest
deadline. A missed notification (listener reconnecting) costs at most `max_sleep` seconds. Every deadline
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
from datetime import UTC, datetime

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


def heard_deadline(payload: str) -> datetime | None:
    """The deadline a trigger NOTIFYs: epoch seconds, or empty when the change does not say."""
    if not payload:
        return None
    try:
        return datetime.fromtimestamp(float(payload), UTC)
    except (ValueError, OverflowError):
        return None


class _DeadlineWakeUp(WakeUp):
    """Wakes the timer only for a deadline earlier than the one it plans for (or an unknown change)."""

    def __init__(
        self, database_url: str, channel: str, *, cannot_listen: str, tls: ssl.SSLContext | bool | None
    ) -> None:
        super().__init__(database_url, channel, log=log, cannot_listen=cannot_listen, tls=tls)
        self.reading = False  # a pass reads the earliest deadline: whatever is heard meanwhile counts
        self.planned: datetime | None = None  # the earliest pending deadline the timer knows of
        self.heard: datetime | None = None  # the earliest deadline notified since the last pass
        self.unknown = True  # a change whose deadline was not said: re-read the earliest one

    async def listen(self) -> None:
        was_listening = self.listener is not None and not self.listener.is_closed()
        await super().listen()
        if not was_listening:
            self.unknown = True  # what was sent while it was not listening is lost

    def _notified(self, *args: object) -> None:
        payload = args[3] if len(args) > 3 else ""
        deadline = heard_deadline(str(payload))
        if deadline is None:
            self.unknown = True
            self.event.set()
            return
        if self.heard is None or deadline < self.heard:
            self.heard = deadline
        if self.reading or self.planned is None or deadline < self.planned:
            self.event.set()


class DeadlineTimer:
    """The trigger may say which deadline changed: its NOTIFY payload is the earliest pending
    deadline of the rows the statement wrote, in epoch seconds (`heard_deadline`); an empty payload
    means "something changed". A said deadline no earlier than the planned one costs nothing (not
    even a wake-up); an earlier one only moves the plan, without a query. The database is read only
    when a planned deadline is reached, on an unknown change, after the listener reconnected, and
    at least every `max_sleep` seconds (so a lost notification is caught)."""

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
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.name = name
        self.clock = clock
        self.channel = channel
        self.sessions = sessions
        self.publisher = publisher
        self._fire_due = fire_due
        self._next_deadline = next_deadline
        self.wake = _DeadlineWakeUp(
            database_url, channel, cannot_listen=f"{name}: cannot listen for deadline changes", tls=tls
        )

    async def run(self, stop: asyncio.Event) -> None:
        wake = self.wake
        read_at = self.clock()
        try:
            while not stop.is_set():
                await wake.listen()
                # Cleared before reading the deadline: a change committed after this read sets it again.
                wake.clear()
                heard, wake.heard = wake.heard, None
                if heard is not None and (wake.planned is None or heard < wake.planned):
                    wake.planned = heard
                now = self.clock()
                if (now - read_at).total_seconds() >= self.max_sleep:
                    wake.unknown = True
                try:
                    if wake.unknown or (wake.planned is not None and wake.planned <= now):
                        wake.unknown = False
                        read_at = now
                        wake.reading = True
                        try:
                            fired = await self.fire_due()
                            async with unit_of_work(self.sessions) as session:
                                wake.planned = await self._next_deadline(session)
                        finally:
                            wake.reading = False
                        if wake.planned is None:
                            delay = self.max_sleep
                        else:
                            delay = min(self.max_sleep, (wake.planned - self.clock()).total_seconds())
                            if delay <= 0 and not fired:
                                delay = self.contended
                    else:
                        until_read = self.max_sleep - (now - read_at).total_seconds()
                        until_due = until_read if wake.planned is None else (wake.planned - now).total_seconds()
                        delay = max(0.0, min(until_read, until_due))
                except Exception as exc:
                    wake.unknown = True
                    if is_transient(exc):
                        log.warning(f"{self.name}: database unavailable, retrying", extra={"error": repr(exc)})
                    else:
                        log.exception(f"{self.name} pass failed")
                    delay = self.retry
                if delay > 0:
                    await wake.sleep(stop, delay)
        finally:
            await wake.close()

    async def fire_due(self) -> int:
        """Fires every row due now, batch by batch; returns how many."""
        total = 0
        with context.bind(correlation_id=f"{self.name}-{uuid.uuid4()}", causation_id=None, traceparent=None):
            while True:
                async with unit_of_work(self.sessions, self.publisher.dispatch) as session:
                    fired = await self._fire_due(session, self.clock(), self.batch_size)
                total += fired
                if fired < self.batch_size:
                    if total:
                        log.info(f"{self.name} fired", extra={"count": total})
                    return total
