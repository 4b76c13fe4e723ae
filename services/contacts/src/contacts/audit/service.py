"""The audit log of customer records. Never commits: the request boundary does."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.audit.models import AuditEntry
from contacts.audit.repository import AuditRepository
from contacts.audit.schemas import AuditEntryRead, AuditPage
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.observability import context


def record(session: AsyncSession, customer_id: uuid.UUID, *, actor: str, action: str, changes: dict[str, Any]) -> None:
    """Adds the entry to the transaction that makes the change: both are stored, or neither."""
    AuditRepository(session).add(
        AuditEntry(
            customer_id=customer_id,
            actor=actor,
            action=action,
            changes=to_jsonable_python(changes),
            correlation_id=context.correlation_id(),
            at=utcnow(),
        )
    )


async def history(session: AsyncSession, customer_id: uuid.UUID, *, limit: int, cursor: str | None) -> AuditPage:
    rows = await AuditRepository(session).list(customer_id, limit=limit + 1, before=decode_time_cursor(cursor))
    last = rows[limit - 1] if len(rows) > limit else None
    return AuditPage(
        items=[AuditEntryRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.at, last.id) if last else None,
    )
