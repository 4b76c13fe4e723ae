"""The worker's SLA timer: breaches fire at the deadline itself, not on the next poll.

A `crm_shared.timers.DeadlineTimer` over the running clocks: the `sla_clocks` triggers NOTIFY
channel `sla_clocks` on commit with the earliest running deadline the statement wrote (epoch
seconds; migration 0008_feedback), `breach_due` claims due clocks with SKIP LOCKED.

Every complaint starts two clocks, hours away: waking the timer for each would cost two
transactions per complaint for nothing. So the timer wakes only for a deadline earlier than the
one it already sleeps until; a later one is read when the timer wakes anyway. A notification
without a deadline (an older trigger) still wakes it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.db import database_ssl, utcnow
from crm_shared.timers import DeadlineTimer
from crm_shared.wakeup import WakeUp
from crm_shared.worker import Worker
from feedback.sla import service

CHANNEL = "sla_clocks"

log = logging.getLogger(__name__)


class EarlierDeadlineWakeUp(WakeUp):
    """A `WakeUp` that ignores deadlines at or after the planned wake-up.

    While the timer sleeps, a notified deadline earlier than its wake-up time wakes it. While it
    runs a pass (between `clear` and `sleep`), notified deadlines are kept and compared with the
    wake-up the pass plans; the ones before `clear` are in what the pass reads (a notification
    comes after its commit)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wake_at: float | None = None  # epoch seconds, while sleeping
        self.noticed: float | None = None  # the earliest deadline notified during a pass

    def clear(self) -> None:
        super().clear()
        self.noticed = None

    async def sleep(self, stop: asyncio.Event, seconds: float) -> None:
        wake_at = utcnow().timestamp() + seconds
        if self.noticed is not None and self.noticed < wake_at:
            self.event.set()
        self.noticed, self.wake_at = None, wake_at
        try:
            await super().sleep(stop, seconds)
        finally:
            self.wake_at = None

    def _notified(self, *args: object) -> None:
        payload = args[-1] if args else ""
        try:
            deadline = float(str(payload))
        except ValueError:
            self.event.set()
            return
        if self.wake_at is None:
            self.noticed = deadline if self.noticed is None else min(self.noticed, deadline)
        elif deadline < self.wake_at:
            self.event.set()


async def _breach_due(session: AsyncSession, now, limit: int) -> int:
    return await service.breach_due(session, now=now, limit=limit)


def sla_timer(worker: Worker, stop: asyncio.Event):
    """The background loop the feedback worker runs (crm_shared.worker.Background)."""
    worker.add_pending_timer("sla_clocks", service.pending_clocks)
    tls = database_ssl(worker.settings)
    timer = DeadlineTimer(
        "sla-timer",
        CHANNEL,
        worker.sessions,
        worker.publisher,
        worker.settings.database_url,
        _breach_due,
        service.next_deadline,
        tls=tls,
    )
    if type(timer.wake) is WakeUp:  # a DeadlineTimer that reads the payload itself needs no help
        timer.wake = EarlierDeadlineWakeUp(
            worker.settings.database_url,
            CHANNEL,
            log=log,
            cannot_listen="sla-timer: cannot listen for deadline changes",
            tls=tls,
        )
    return timer.run(stop)
