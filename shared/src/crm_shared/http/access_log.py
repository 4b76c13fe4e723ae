"""The access log of personal-data reads, the same in every service (each has its own table).

A route that returns a customer's personal data calls `record_access` with the customers it
returned: one row per customer (a list or search that found nobody writes one row without a
customer), with the caller's subject, the route template and the time. Never the query string or
a body: the log must not itself become a copy of the data. It is written in the request's unit of
work, so a read that fails leaves no entry and an entry always means an answer was sent.

Admins read it with `GET /v1/access-log?customer_id=&subject=&since=` on each service.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.access_log_model import AccessLogEntry
from crm_shared.db import Repository, utcnow
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.pagination import decode_cursor, encode_cursor
from crm_shared.http.problems import ProblemError
from crm_shared.http.query import IsoDateTime
from crm_shared.observability.metrics import route_template

_INSERT = insert(AccessLogEntry.__table__)


class AccessLogRepository(Repository):
    async def add(self, subject: str, route: str, customer_ids: list[uuid.UUID | None], at: datetime) -> None:
        rows = [{"subject": subject, "route": route, "customer_id": c, "at": at} for c in customer_ids]
        await self.session.execute(_INSERT, rows)

    async def page(
        self,
        *,
        customer_id: uuid.UUID | None,
        subject: str | None,
        since: datetime | None,
        before_id: int | None,
        limit: int,
    ) -> list[AccessLogEntry]:
        query = select(AccessLogEntry).order_by(AccessLogEntry.id.desc()).limit(limit)
        if customer_id is not None:
            query = query.where(AccessLogEntry.customer_id == customer_id)
        if subject is not None:
            query = query.where(AccessLogEntry.subject == subject)
        if since is not None:
            query = query.where(AccessLogEntry.at >= since)
        if before_id is not None:
            query = query.where(AccessLogEntry.id < before_id)
        return list((await self.session.scalars(query)).all())


def _as_uuid(value: Any) -> uuid.UUID | None:
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


async def record_access(request: Request, session: AsyncSession, customer_ids: Iterable[Any]) -> None:
    """Logs that the caller read these customers' data through this route (see the module doc)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    route = route_template(request.scope)  # `/v1/customers/{customer_id}`: no ids, no query
    ids: list[uuid.UUID | None] = list(dict.fromkeys(i for i in map(_as_uuid, customer_ids) if i is not None))
    await AccessLogRepository(session).add(
        principal.subject if principal else "anonymous", f"{request.method} {route}", ids or [None], utcnow()
    )


class AccessLogEntryRead(BaseModel):
    at: datetime
    subject: str = Field(description="The token subject that read the data.", examples=["alice"])
    route: str = Field(examples=["GET /v1/customers/{customer_id}"])
    customer_id: uuid.UUID | None = Field(description="Null for a list or search that returned nobody.")


class AccessLogPage(BaseModel):
    items: list[AccessLogEntryRead] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


def access_log_router() -> APIRouter:
    router = APIRouter(prefix="/v1/access-log", tags=["access log"])

    @router.get(
        "",
        response_model=AccessLogPage,
        summary="Who read which customer's personal data, and when",
        description="Every read of personal data in this service: the caller's token subject, the route and "
        "the customer, newest first (never the query or the answer). Filter by `customer_id` (a data subject's "
        "question: who looked at my data?), `subject` and `since`. Admins only; kept for "
        "`CRM_RETENTION_ACCESS_LOG_DAYS`.",
    )
    async def list_access_log(
        session: SessionDep,
        _: Annotated[Principal, Depends(require("admin"))],
        customer_id: uuid.UUID | None = None,
        subject: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[IsoDateTime | None, Query(description="ISO time with zone: entries at or after.")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: str | None = None,
    ) -> AccessLogPage:
        before_id = None
        if cursor:
            (raw,) = decode_cursor(cursor, 1)
            if not raw.isdigit():
                raise ProblemError(400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor")
            before_id = int(raw)
        rows = await AccessLogRepository(session).page(
            customer_id=customer_id, subject=subject, since=since, before_id=before_id, limit=limit + 1
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return AccessLogPage(
            items=[
                AccessLogEntryRead(at=r.at, subject=r.subject, route=r.route, customer_id=r.customer_id) for r in rows
            ],
            next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
        )

    return router
