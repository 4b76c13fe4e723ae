"""The data export of a customer (GDPR art. 15 and 20): one JSON document from all four services.

Contacts' own rows are read here; feedback, scoring and notifications are asked at the same time
for their `GET /v1/customers/{id}/export`, with the caller's token (it must carry
`contacts:export` or `admin` for them too). Unlike the customer 360, an export is complete or it
is nothing: a data subject must not receive a partial answer as if it were all, so a part that
fails makes the whole request a 503 (retry), never a 200 with gaps.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.config import Settings
from contacts.customers.service import get_customer
from contacts.privacy.repository import export_queries
from crm_shared.db import utcnow
from crm_shared.http.export import service_export
from crm_shared.http.problems import ServiceUnavailable


async def _part(
    http: httpx.AsyncClient,
    service: str,
    base_url: str,
    customer_id: uuid.UUID,
    headers: dict[str, str],
    timeout: float,
) -> dict[str, Any]:
    url = f"{base_url.rstrip('/')}/v1/customers/{customer_id}/export"
    try:
        response = await asyncio.wait_for(http.get(url, headers=headers, timeout=timeout), timeout)
    except (TimeoutError, httpx.HTTPError) as exc:
        raise ServiceUnavailable(
            f"the {service} part of the export is unavailable ({type(exc).__name__}); retry"
        ) from exc
    if response.status_code != 200:
        raise ServiceUnavailable(f"the {service} part of the export answered {response.status_code}; retry")
    part: dict[str, Any] = response.json()
    return part


async def export_customer(
    request: Request, session: AsyncSession, customer_id: uuid.UUID, settings: Settings
) -> dict[str, Any]:
    await get_customer(session, customer_id)  # 404 before asking anyone else
    headers = {"Authorization": request.headers["authorization"]}
    timeout = settings.export_part_timeout_seconds
    others = {
        "feedback": settings.feedback_url,
        "scoring": settings.scoring_url,
        "notifications": settings.notifications_url,
    }
    http: httpx.AsyncClient = request.app.state.http
    remote = {
        name: asyncio.create_task(_part(http, name, url, customer_id, headers, timeout)) for name, url in others.items()
    }
    parts = {"contacts": await service_export(request, session, "contacts", customer_id, export_queries(customer_id))}
    try:
        for name, task in remote.items():
            parts[name] = await task
    finally:
        for task in remote.values():
            task.cancel()
    return {"customer_id": str(customer_id), "exported_at": utcnow().isoformat(), "services": parts}
