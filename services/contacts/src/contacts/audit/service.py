"""The audit log of customer records. Never commits: the request boundary does."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.audit.models import AuditEntry
from contacts.audit.repository import AuditRepository
from contacts.audit.schemas import AuditEntryRead, AuditPage
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.observability import context


def entry_values(customer_id: uuid.UUID, *, actor: str, action: str, changes: dict[str, Any]) -> dict[str, Any]:
    """An entry's columns (a bulk import inserts many at once); the correlation id is the current one."""
    return {
        "id": new_id(),
        "customer_id": customer_id,
        "actor": actor,
        "action": action,
        "changes": to_jsonable_python(changes),
        "correlation_id": context.correlation_id(),
        "at": utcnow(),
    }


def record(session: AsyncSession, customer_id: uuid.UUID, *, actor: str, action: str, changes: dict[str, Any]) -> None:
    """Adds the entry to the transaction that makes the change: both are stored, or neither."""
    AuditRepository(session).add(AuditEntry(**entry_values(customer_id, actor=actor, action=action, changes=changes)))


async def history(session: AsyncSession, customer_id: uuid.UUID, *, limit: int, cursor: str | None) -> AuditPage:
    rows = await AuditRepository(session).list(customer_id, limit=limit + 1, before=decode_time_cursor(cursor))
    last = rows[limit - 1] if len(rows) > limit else None
    return AuditPage(
        items=[AuditEntryRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.at, last.id) if last else None,
    )


ERASED = "[erased]"


def _redacted(value: Any) -> Any:
    if isinstance(value, dict) and set(value) <= {"from", "to"}:
        return {side: ERASED if v not in (None, [], {}) else v for side, v in value.items()}
    return ERASED if value not in (None, [], {}) else value


async def redact(session: AsyncSession, customer_ids: list[uuid.UUID], fields: set[str]) -> None:
    """Replaces the values of personal fields with "[erased]" in these records' entries.

    The entries themselves stay (who changed which field when, and why the record changed):
    the history is kept, the person is not.
    """
    for entry in await AuditRepository(session).of_customers(customer_ids):
        if fields & entry.changes.keys():
            entry.changes = {k: _redacted(v) if k in fields else v for k, v in entry.changes.items()}
