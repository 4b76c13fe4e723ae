"""A customer's data export (GDPR art. 15 and 20): every row a service holds about them, as JSON.

Each service names the queries that find a customer's rows (`ExportQueries`); `export_router`
serves them as `GET /v1/customers/{customer_id}/export`, table by table, every column as stored
(secrets excepted: a service leaves them out of its queries). The customer master composes every
service's answer into one document. Reading an export is itself access-logged.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Select, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.access_log_model import AccessLogEntry
from crm_shared.contracts.scopes import EXPORT_SCOPE
from crm_shared.db import utcnow
from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require

ExportQueries = Callable[[uuid.UUID], Mapping[str, Select[Any]]]


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def row_dict(row: Any, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every mapped column of an ORM row, JSON-ready."""
    return {
        attr.key: _plain(getattr(row, attr.key)) for attr in inspect(row).mapper.column_attrs if attr.key not in exclude
    }


async def export_tables(session: AsyncSession, queries: Mapping[str, Select[Any]]) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for name, query in queries.items():
        tables[name] = [row_dict(row) for row in (await session.scalars(query)).all()]
    return tables


def access_log_query(customer_id: uuid.UUID) -> Select[Any]:
    """Who read the customer's data here (art. 15 (1)(c): the recipients)."""
    from sqlalchemy import select

    return select(AccessLogEntry).where(AccessLogEntry.customer_id == customer_id).order_by(AccessLogEntry.id)


async def service_export(
    request: Request, session: AsyncSession, service: str, customer_id: uuid.UUID, queries: Mapping[str, Select[Any]]
) -> dict[str, Any]:
    """One service's part: its tables, then the access log (read before this read is logged)."""
    tables = await export_tables(session, {**queries, "access_log": access_log_query(customer_id)})
    await record_access(request, session, [customer_id])
    return {"service": service, "customer_id": str(customer_id), "exported_at": utcnow().isoformat(), "tables": tables}


def export_router(service: str, queries: ExportQueries) -> APIRouter:
    router = APIRouter(prefix="/v1/customers", tags=["privacy"])

    @router.get(
        "/{customer_id}/export",
        summary="Everything this service holds about a customer (data export)",
        description=f"Every row of the {service} service about the customer, table by table, as stored "
        "(no secrets), with the access log of their data here. The customer master's "
        "`GET /v1/customers/{id}/export` combines this with the other services' parts into one document. "
        f"Needs `{EXPORT_SCOPE}` (or `admin`); the read is access-logged. A customer this service never "
        "heard of has empty tables.",
    )
    async def export_customer(
        customer_id: uuid.UUID,
        request: Request,
        session: SessionDep,
        _: Annotated[Principal, Depends(require(EXPORT_SCOPE))],
    ) -> dict[str, Any]:
        return await service_export(request, session, service, customer_id, queries(customer_id))

    return router
