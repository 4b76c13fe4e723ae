"""The worker's SLA timer: breaches fire at the deadline itself, not on the next poll.

A `crm_shared.timers.DeadlineTimer` over the running clocks: the `sla_clocks` triggers NOTIFY
channel `sla_clocks` on commit with the earliest running deadline the statement wrote (epoch
seconds; migration 0008_feedback), `breach_due` claims due clocks with SKIP LOCKED.

Every complaint starts two clocks, hours away: waking the timer for each would cost two
transactions per complaint for nothing. The timer reads the payload (`crm_shared.timers`): it
wakes only for a deadline earlier than the one it already plans; a notification without a
deadline still makes it re-read the earliest one.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.db import database_ssl
from crm_shared.timers import DeadlineTimer
from crm_shared.worker import Worker
from feedback.sla import service

CHANNEL = "sla_clocks"


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
    return timer.run(stop)
