"""Tiers and lifecycle stages that change with time alone: a contract run ends, orders leave the
12-month window, a customer stays silent past the lifecycle rules' threshold.

Nothing happens to the record then, so nothing triggers the rules. The worker applies them to
every customer once per `CONTACTS_TIER_SWEEP_INTERVAL_SECONDS` (a day by default), one batch per
transaction, so a sweep of a large base never holds a long transaction. Each batch locks its
customers, so a second worker sweeping at the same time finds them already right: no doubled events.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from contacts.config import Settings
from contacts.lifecycle import service as lifecycle
from contacts.tiers import service
from crm_shared.db import unit_of_work, utcnow
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.observability import context
from crm_shared.worker import Worker

log = logging.getLogger(__name__)


async def sweep_once(
    sessions: async_sessionmaker[AsyncSession], publisher: EventPublisher, *, now: datetime | None = None
) -> int:
    """One pass over every customer the rules decide; returns how many changed tier."""
    changed, after = 0, None
    with context.bind(correlation_id=f"tier-sweep-{uuid.uuid4()}", causation_id=None, traceparent=None):
        while True:
            async with unit_of_work(sessions, publisher.dispatch) as session:
                rules = (await service.current_rules(session)).rules
                batch_changed, after = await service.retier_batch(session, rules, after=after, now=now or utcnow())
            changed += batch_changed
            if after is None:
                return changed


async def lifecycle_sweep_once(
    sessions: async_sessionmaker[AsyncSession],
    publisher: EventPublisher,
    *,
    now: datetime | None = None,
    only: list[uuid.UUID] | None = None,
) -> int:
    """One pass of the lifecycle rules over every customer whose stage no person holds (silence and
    lapsed contracts change nothing on the record); returns how many moved. `now` is the clock."""
    moved, after = 0, None
    with context.bind(correlation_id=f"lifecycle-sweep-{uuid.uuid4()}", causation_id=None, traceparent=None):
        while True:
            async with unit_of_work(sessions, publisher.dispatch) as session:
                rules = (await lifecycle.current_rules(session)).rules
                batch_moved, after = await lifecycle.apply_batch(
                    session, rules, after=after, now=now or utcnow(), only=only
                )
            moved += batch_moved
            if after is None:
                return moved


def tier_sweeper(worker: Worker, stop: asyncio.Event):
    """The background loop the contacts worker runs (crm_shared.worker.Background)."""

    async def run() -> None:
        interval = cast(Settings, worker.settings).tier_sweep_interval_seconds  # the contacts worker's settings
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except TimeoutError:
                pass
            try:
                changed = await sweep_once(worker.sessions, worker.publisher)
                moved = await lifecycle_sweep_once(worker.sessions, worker.publisher)
                log.info("tier and lifecycle sweep done", extra={"changed": changed, "lifecycle_moved": moved})
            except Exception:
                log.exception("tier sweep failed; the next one retries")

    return run()
