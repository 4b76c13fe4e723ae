from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from feedback.sla import service
from feedback.sla.schemas import CustomerClocks, SlaPause, SlaPolicy, SlaStatus, SlaTargets

clock_router = APIRouter(prefix="/v1/feedback", tags=["sla"])
policy_router = APIRouter(prefix="/v1/sla-policy", tags=["sla"])
open_clocks_router = APIRouter(prefix="/v1/sla-clocks", tags=["sla"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No feedback with this id", "content": {"application/problem+json": {}}}
}


def _conflict(what: str) -> dict[int | str, dict[str, Any]]:
    return {
        **_NOT_FOUND,
        409: {
            "description": f"No {what} SLA clock (met, breached, or not a complaint)",
            "content": {"application/problem+json": {}},
        },
    }


@clock_router.get(
    "/{feedback_id}/sla",
    response_model=SlaStatus,
    summary="A complaint's SLA clocks",
    description="The first-response and resolution clocks: target, deadline (moved by pauses), status "
    "(`running`, `paused`, `met`, `breached`) and when each was met or breached. Feedback that is not a "
    "complaint has no clocks.",
    responses=_NOT_FOUND,
)
async def get_sla(
    feedback_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("feedback:read"))]
) -> SlaStatus:
    return await service.sla_status(session, feedback_id)


@clock_router.post(
    "/{feedback_id}/sla/pause",
    response_model=SlaStatus,
    summary="Pause the SLA while waiting on the customer",
    description="Stops every running clock of the complaint; the time until `resume` does not count "
    "against the targets. A paused clock cannot breach.",
    responses=_conflict("running"),
)
async def pause_sla(
    feedback_id: uuid.UUID,
    body: SlaPause,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:write"))],
) -> SlaStatus:
    return await service.pause(session, feedback_id, body.reason)


@clock_router.post(
    "/{feedback_id}/sla/resume",
    response_model=SlaStatus,
    summary="Resume the SLA once the customer answered",
    description="Restarts the paused clocks; each deadline moves later by the time it was paused.",
    responses=_conflict("paused"),
)
async def resume_sla(
    feedback_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("feedback:write"))]
) -> SlaStatus:
    return await service.resume(session, feedback_id)


@policy_router.get(
    "",
    response_model=SlaPolicy,
    summary="The SLA targets in force",
    description="Seconds to first response and to resolution by severity and customer tier (version 0: the "
    "built-in defaults, key accounts tightest). Needs the `admin` scope.",
)
async def get_policy(session: SessionDep, _: Annotated[Principal, Depends(require("admin"))]) -> SlaPolicy:
    return await service.current_policy(session)


@policy_router.put(
    "",
    response_model=SlaPolicy,
    summary="Change the SLA targets",
    description="Stores the targets as a new version (who and when are kept). They apply to complaints "
    "recorded from now on; running clocks keep the target they started with. Needs the `admin` scope; "
    "`Idempotency-Key` makes retries safe.",
)
async def put_policy(
    body: SlaTargets,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "sla_policy.put")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    policy = await service.change_policy(session, body, actor=principal.subject)
    payload = policy.model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload)


@open_clocks_router.get(
    "",
    response_model=CustomerClocks,
    summary="A customer's SLA clocks still running (or paused), soonest deadline first",
    description="Every complaint of the customer whose first-response or resolution clock is still counting; "
    "the customer 360 shows them.",
)
async def open_clocks(
    customer_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CustomerClocks:
    return await service.open_clocks(session, customer_id, limit)
