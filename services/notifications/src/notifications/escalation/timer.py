"""The worker's escalation timer: a task escalates at its deadline itself, not on the next poll.

A `crm_shared.timers.DeadlineTimer` over `tasks.next_escalation_at`: the `tasks` trigger NOTIFYs
channel `task_escalations` on commit, `escalate_due` claims due tasks with SKIP LOCKED. A worker
that was down at a deadline escalates at once when it is back.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.db import database_ssl
from crm_shared.timers import DeadlineTimer
from crm_shared.worker import Worker
from notifications.config import Settings
from notifications.escalation import service

CHANNEL = "task_escalations"


def escalation_timer(worker: Worker, stop: asyncio.Event):
    """The background loop the notifications worker runs (crm_shared.worker.Background)."""
    settings = cast(Settings, worker.settings)  # the notifications worker runs with its own Settings
    policy = service.EscalationPolicy(fallback=settings.escalation_fallback)
    worker.add_pending_timer("task_escalations", service.pending_escalations)

    async def fire(session: AsyncSession, now: datetime, limit: int) -> int:
        return await service.escalate_due(session, now, limit, policy)

    timer = DeadlineTimer(
        "escalation-timer",
        CHANNEL,
        worker.sessions,
        worker.publisher,
        settings.database_url,
        fire,
        service.next_deadline,
        tls=database_ssl(settings),
    )
    return timer.run(stop)
