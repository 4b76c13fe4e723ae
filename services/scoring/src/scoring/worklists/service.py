"""Work-lists: who to act on first, within the caller's access (docs/scoring.md, "Work-lists").

Access: the repository keeps to the caller's reach (docs/security.md#roles-and-record-level-access):
an account manager lists the customers they or their teams own, a partner those assigned to it;
an analyst sees pseudonyms instead of names.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.http.auth import Principal
from crm_shared.http.pagination import decode_cursor, encode_cursor
from crm_shared.http.problems import ProblemError
from scoring.worklists.repository import WorkListRepository
from scoring.worklists.schemas import CSV_COLUMNS, WorkListFilters, WorkListItem, WorkListPage

EXPORT_PAGE = 1000
EXPORT_LIMIT = 100_000


def _after(cursor: str | None) -> tuple[float, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        value, ident = decode_cursor(cursor, 2)
        return float(value), uuid.UUID(ident)
    except ValueError as exc:
        raise ProblemError(
            400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor"
        ) from exc


async def page(
    session: AsyncSession, principal: Principal, filters: WorkListFilters, *, limit: int, cursor: str | None
) -> WorkListPage:
    repository = WorkListRepository(session)
    rows = await repository.page(filters, after=_after(cursor), limit=limit + 1)
    items = [WorkListItem.model_validate(row, from_attributes=True) for row in rows[:limit]]
    if repository.reach.pseudonymised:
        items = [item.model_copy(update={"name": repository.reach.pseudonym(item.customer_id)}) for item in items]
    last = items[-1] if len(rows) > limit else None
    next_cursor = encode_cursor(getattr(last, filters.sort.value), last.customer_id) if last else None
    return WorkListPage(items=items, next_cursor=next_cursor)


async def export_csv(session: AsyncSession, principal: Principal, filters: WorkListFilters) -> AsyncIterator[str]:
    """The same list as CSV (header row first), page by page, at most EXPORT_LIMIT rows."""
    yield _line(CSV_COLUMNS)
    cursor: str | None = None
    sent = 0
    while sent < EXPORT_LIMIT:
        result = await page(session, principal, filters, limit=min(EXPORT_PAGE, EXPORT_LIMIT - sent), cursor=cursor)
        for item in result.items:
            data = item.model_dump(mode="json")
            yield _line([data[c] for c in CSV_COLUMNS])
        sent += len(result.items)
        cursor = result.next_cursor
        if cursor is None:
            return


def _line(values: Any) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
    return out.getvalue()
