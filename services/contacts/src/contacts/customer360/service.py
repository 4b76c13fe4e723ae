"""The customer 360: this service's record joined with what the other services know.

The other services are asked concurrently while the local record is read; each has its own
deadline, and a part that fails or is late is reported in `missing` instead of failing the view:
an account manager about to call a customer would rather see four parts out of five now.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any, Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activities.schemas import ActivityRead
from contacts.activities.service import commercial_history, recent_activities
from contacts.config import Settings
from contacts.customer360 import summary
from contacts.customer360.schemas import Customer360, CustomerSummary, CustomerTasks, MissingPart, PartName
from contacts.customers.schemas import CustomerRead
from contacts.customers.service import get_customer
from crm_shared.db import utcnow

log = logging.getLogger(__name__)

RECENT = 10
IN_PROGRESS = 50  # open and claimed tasks are shown whole, up to this many
RECENTLY_CLOSED = timedelta(days=30)
REVENUE_WINDOW = timedelta(days=365)


class _PartMissing(Exception):
    def __init__(self, reason: Literal["timeout", "unavailable", "forbidden", "error"], detail: str) -> None:
        self.reason = reason
        self.detail = detail


async def _fetch(
    http: httpx.AsyncClient, base_url: str, path: str, params: dict[str, Any], headers: dict[str, str], timeout: float
) -> Any:
    """The JSON a service answers, None for 404 (nothing there yet), or _PartMissing."""
    service = base_url
    try:
        response = await asyncio.wait_for(
            http.get(base_url.rstrip("/") + path, params=params, headers=headers, timeout=timeout), timeout
        )
    except TimeoutError as exc:
        raise _PartMissing("timeout", f"{service} did not answer within {timeout:g} s") from exc
    except httpx.TimeoutException as exc:
        raise _PartMissing("timeout", f"{service} did not answer within {timeout:g} s") from exc
    except httpx.HTTPError as exc:
        raise _PartMissing("unavailable", f"{service} is unreachable: {type(exc).__name__}") from exc
    if response.status_code == 404:
        return None
    if response.status_code in (401, 403):
        raise _PartMissing("forbidden", f"your token may not read this part ({response.status_code} from {service})")
    if response.status_code != 200:
        raise _PartMissing(
            "unavailable" if response.status_code >= 500 else "error", f"{service} answered {response.status_code}"
        )
    try:
        return response.json()
    except ValueError as exc:
        raise _PartMissing("error", f"{service} answered something that is not JSON") from exc


async def _tasks(
    http: httpx.AsyncClient, base_url: str, customer_id: str, headers: dict[str, str], timeout: float
) -> CustomerTasks:
    """Work in progress and what was closed lately: a task must not drop out of the view the moment
    an agent claims it, and how a recent one ended is what the next caller asks about."""
    since = (utcnow() - RECENTLY_CLOSED).isoformat()
    queries = [
        {"customer_id": customer_id, "status": ["open", "claimed"], "limit": IN_PROGRESS},
        {"customer_id": customer_id, "closed_since": since, "limit": RECENT},
    ]
    answers = await asyncio.gather(
        *(_fetch(http, base_url, "/v1/tasks", q, headers, timeout) for q in queries), return_exceptions=True
    )
    results: list[Any] = []
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
        results.append(answer)
    in_progress, closed = ((answer or {}).get("items", []) for answer in results)
    return CustomerTasks(
        open=[t for t in in_progress if t.get("status") == "open"],
        claimed=[t for t in in_progress if t.get("status") == "claimed"],
        recently_closed=sorted(closed, key=lambda t: t.get("closed_at") or "", reverse=True),
    )


async def _items(
    http: httpx.AsyncClient, base_url: str, path: str, params: dict[str, Any], headers: dict[str, str], timeout: float
) -> list[Any]:
    """A list part: the `items` of the answer (none yet: an empty list)."""
    return list(((await _fetch(http, base_url, path, params, headers, timeout)) or {}).get("items", []))


async def customer_360(
    session: AsyncSession,
    customer_id: uuid.UUID,
    *,
    http: httpx.AsyncClient,
    settings: Settings,
    authorization: str,
    correlation_id: str,
) -> Customer360:
    # The caller's own token goes along: the view shows only what the caller may read anyway.
    headers = {"Authorization": authorization, "X-Correlation-Id": correlation_id}
    timeout = settings.view_part_timeout_seconds
    customer = await get_customer(session, customer_id)  # 404 before asking anyone else
    key = str(customer.id)
    remote: dict[PartName, asyncio.Task[Any]] = {
        "feedback": asyncio.create_task(
            _fetch(http, settings.feedback_url, "/v1/feedback", {"customer_id": key, "limit": RECENT}, headers, timeout)
        ),
        "scores": asyncio.create_task(_fetch(http, settings.scoring_url, f"/v1/scores/{key}", {}, headers, timeout)),
        "tasks": asyncio.create_task(_tasks(http, settings.notifications_url, key, headers, timeout)),
        "messages": asyncio.create_task(
            _items(
                http,
                settings.notifications_url,
                "/v1/messages",
                {"customer_id": key, "limit": RECENT},
                headers,
                timeout,
            )
        ),
        "sla_clocks": asyncio.create_task(
            _items(http, settings.feedback_url, "/v1/sla-clocks", {"customer_id": key}, headers, timeout)
        ),
        "score_trend": asyncio.create_task(
            _items(http, settings.scoring_url, f"/v1/scores/{key}/history", {"limit": RECENT}, headers, timeout)
        ),
    }
    activities = await recent_activities(session, customer.id, RECENT)
    now = utcnow()
    revenue, terms = await commercial_history(session, customer.id, since=now - REVENUE_WINDOW, until=now)
    today = now.date()
    since = customer.created_at.date()
    parts: dict[str, Any] = {}
    missing: list[MissingPart] = []
    for name, task in remote.items():
        try:
            parts[name] = await task
        except _PartMissing as exc:
            log.warning("customer 360 part missing", extra={"part": name, "reason": exc.reason})
            parts[name] = None
            missing.append(MissingPart(part=name, reason=exc.reason, detail=exc.detail))
    absent = {m.part for m in missing}
    return Customer360(
        customer=CustomerRead.model_validate(customer),
        recent_activities=[ActivityRead.model_validate(a) for a in activities],
        recent_feedback=None if "feedback" in absent else (parts["feedback"] or {}).get("items", []),
        scores=parts["scores"],
        tasks=parts["tasks"],
        summary=CustomerSummary(
            customer_since=since,
            tenure_days=summary.tenure_days(since, today),
            revenue_12_months=revenue,
            contracts_in_force=len(summary.in_force(terms, today)),
            next_renewal=summary.next_renewal(terms, today),
        ),
        recent_messages=parts["messages"],
        running_sla_clocks=parts["sla_clocks"],
        score_trend=parts["score_trend"],
        missing=missing,
        complete=not missing,
    )
