"""What every service does, besides its own tables, when a customer is erased.

Personal data also hides in platform tables: the stored answers of idempotent writes (a
customer card, a complaint's text) and published events kept in the outbox for a while. Both
are removed here, once, for all four services. What reached the broker is beyond reach of a
database delete; docs/architecture.md says how topic retention bounds it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable

from sqlalchemy import String, cast, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.failures import TransientFailure
from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.http.problems import ServiceUnavailable
from crm_shared.messaging.models import OutboxMessage


class EventsInFlight(ServiceUnavailable, TransientFailure):
    """Events about the customer are still on their way to the broker.

    They must be delivered as written, and once sent they would stay in the outbox until its
    retention prune; so erasure waits for them (milliseconds, or the end of a broker outage): a
    consumer retries the erasure event like any transient failure, the api answers 503 + Retry-After.
    """

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} event(s) about this customer are still being published; retry shortly.", 1)


async def _wait_until_sent(session: AsyncSession, keys: list[str], timeout: float = 3.0) -> None:
    """Usually the events are acknowledged within milliseconds of their commit: wait that long."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        unsent = await session.scalar(
            select(func.count()).where(OutboxMessage.key.in_(keys), OutboxMessage.sent_at.is_(None))
        )
        if not unsent:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise EventsInFlight(unsent)
        await asyncio.sleep(0.02)


async def purge_platform_records(session: AsyncSession, customer_ids: Iterable[uuid.UUID]) -> None:
    """Deletes stored idempotent answers that mention the customers, and their sent events."""
    ids = [str(customer_id) for customer_id in customer_ids]
    if not ids:
        return
    await _wait_until_sent(session, ids)
    body = cast(IdempotencyRecord.response_body, String)
    await session.execute(delete(IdempotencyRecord).where(or_(*(body.contains(i) for i in ids))))
    await session.execute(delete(OutboxMessage).where(OutboxMessage.key.in_(ids), OutboxMessage.sent_at.is_not(None)))
