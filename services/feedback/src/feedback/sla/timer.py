"""The worker's SLA timer: breaches fire at the deadline itself, not on the next poll.

A `crm_shared.timers.DeadlineTimer` over the running clocks: the `sla_clocks` trigger NOTIFYs
channel `sla_clocks` on commit, `breach_due` claims due clocks with SKIP LOCKED.
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
    timer = DeadlineTimer(
        "sla-timer",
        CHANNEL,
        worker.sessions,
        worker.publisher,
        worker.settings.database_url,
        _breach_due,
        service.next_deadline,
        tls=database_ssl(worker.settings),
    )
    return timer.run(stop)
