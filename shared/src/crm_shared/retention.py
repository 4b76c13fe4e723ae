"""Pruning what every service keeps only for a while: stored Idempotency-Key answers, the inbox
of processed events (both hold personal data or its traces) and, much longer, the access log.

Each service's worker runs `prune_loop` (crm_shared.worker): at start, then every
`CRM_RETENTION_PRUNE_INTERVAL_SECONDS`. Rows go in batches of `CRM_RETENTION_PRUNE_BATCH_SIZE`,
each its own short transaction, so a large backlog never holds locks for long. Two workers of one
service may prune at once: a row deleted by one is simply not found by the other.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, ColumnElement, Table, delete, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_shared.access_log_model import AccessLogEntry
from crm_shared.config import RetentionSettings
from crm_shared.db import utcnow
from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import ProcessedEvent

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _pruned(settings: RetentionSettings) -> list[tuple[Table, Column[datetime], timedelta]]:
    kept = timedelta(days=settings.days)
    return [
        (IdempotencyRecord.__table__, IdempotencyRecord.__table__.c.created_at, kept),
        (ProcessedEvent.__table__, ProcessedEvent.__table__.c.processed_at, kept),
        (AccessLogEntry.__table__, AccessLogEntry.__table__.c.at, timedelta(days=settings.access_log_days)),
    ]


async def _delete_batch(session: AsyncSession, table: Table, column: Column[datetime], cutoff: datetime, n: int) -> int:
    # ctid: one batch by physical row, whatever the table's key (the inbox has a composite one).
    ctid: ColumnElement[Any] = literal_column("ctid")
    oldest = select(ctid).select_from(table).where(column < cutoff).limit(n)
    result = await session.execute(delete(table).where(ctid.in_(oldest)))
    return int(getattr(result, "rowcount", 0) or 0)


async def prune_once(
    sessions: async_sessionmaker[AsyncSession], settings: RetentionSettings, now: datetime
) -> dict[str, int]:
    """Deletes every row past its retention, batch by batch; returns the count per table."""
    counts: dict[str, int] = {}
    for table, column, kept in _pruned(settings):
        cutoff = now - kept
        total = 0
        while True:
            async with sessions() as session, session.begin():
                deleted = await _delete_batch(session, table, column, cutoff, settings.prune_batch_size)
            total += deleted
            if deleted < settings.prune_batch_size:
                break
        counts[table.name] = total
    return counts


async def prune_loop(
    sessions: async_sessionmaker[AsyncSession], settings: RetentionSettings, stop: asyncio.Event, clock: Clock = utcnow
) -> None:
    """At start, then every interval, until `stop`; a failed pass is logged and tried next time."""
    while not stop.is_set():
        try:
            counts = await prune_once(sessions, settings, clock())
            if any(counts.values()):
                log.info("retention prune", extra={"deleted": counts})
        except Exception as exc:
            log.warning("retention prune failed", extra={"error": repr(exc)})
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.prune_interval_seconds)
        except TimeoutError:
            pass
