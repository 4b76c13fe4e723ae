"""The worker's renewal timer: a contract's renewal task is made at its `fire_at` itself.

A `crm_shared.timers.DeadlineTimer` over `contract_renewals.fire_at`: the table's trigger
NOTIFYs channel `contract_renewals` on commit; `fire_due` claims due rows with SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
from typing import cast

from crm_shared.timers import DeadlineTimer
from crm_shared.worker import Worker
from notifications.config import Settings
from notifications.renewals import service

CHANNEL = "contract_renewals"


def renewal_timer(worker: Worker, stop: asyncio.Event):
    """The background loop the notifications worker runs (crm_shared.worker.Background)."""
    settings = cast(Settings, worker.settings)
    worker.add_pending_timer("contract_renewals", service.pending)
    timer = DeadlineTimer(
        "renewal-timer",
        CHANNEL,
        worker.sessions,
        worker.publisher,
        settings.database_url,
        service.fire_due,
        service.next_deadline,
    )
    return timer.run(stop)
