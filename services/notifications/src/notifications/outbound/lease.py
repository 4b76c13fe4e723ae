"""One attempt of a message or webhook delivery, around the send: close the attempt a stopped
worker left open, lease the row and log the new attempt before the send, then settle it
(`schedule.settle`) with the outcome. Messages and webhooks add only their own columns."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from notifications.config import Settings
from notifications.outbound import schedule
from notifications.outbound.repository import DeliveryQueueRepository
from notifications.outbound.transports import Outcome


async def close_interrupted(repository: DeliveryQueueRepository[Any, Any], item: Any, now: datetime) -> None:
    """A row still `sending` was taken again because its lease ran out: the worker that sent it
    stopped before recording the outcome, and the log says so."""
    if item.status != "sending":
        return
    interrupted = await repository.attempt(item.id, item.attempts)
    if interrupted is not None and interrupted.outcome is None:
        interrupted.outcome = "interrupted"
        interrupted.finished_at = now
        interrupted.error = "no outcome recorded (the worker stopped mid-send); sent again with the same id"


def lease(repository: DeliveryQueueRepository[Any, Any], item: Any, now: datetime, settings: Settings) -> int:
    """Status `sending` until the lease runs out, and the attempt row, both committed before the
    send so a crash mid-send is visible. Returns the attempt's number."""
    item.attempts += 1
    item.status = "sending"
    item.next_attempt_at = now + timedelta(seconds=settings.delivery_lease_seconds)
    item.updated_at = now
    repository.add_attempt(item.id, item.attempts, now)
    return int(item.attempts)


async def finish(
    repository: DeliveryQueueRepository[Any, Any],
    item_id: uuid.UUID,
    number: int,
    outcome: Outcome,
    *,
    done: str,
    now: datetime,
    settings: Settings,
) -> Any | None:
    """Store the attempt's outcome and what follows: `done`, a retry after backoff, or dead.
    Returns the item if this attempt settled it (the caller then sets its own columns)."""
    item = await repository.lock(item_id)
    attempt = await repository.attempt(item_id, number)
    settled = schedule.settle(
        item,
        attempt,
        number=number,
        ok=outcome.ok,
        permanent=outcome.permanent,
        status_code=outcome.status_code,
        error=outcome.error,
        now=now,
        done=done,
        max_attempts=settings.delivery_max_attempts,
        backoff_seconds=settings.delivery_backoff_seconds,
        backoff_max_seconds=settings.delivery_backoff_max_seconds,
    )
    return item if settled else None
