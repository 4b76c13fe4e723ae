from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.problems import ProblemError
from crm_shared.http.responses import JsonResponse
from feedback.resolutions import service
from feedback.resolutions.schemas import (
    CAUSE_CODE_PATTERN,
    CauseCodeIn,
    CauseCodeList,
    CauseCodeRead,
    PaymentIn,
    ResolutionRead,
)

resolution_router = APIRouter(prefix="/v1/feedback", tags=["complaint cases"])
cause_router = APIRouter(prefix="/v1/cause-codes", tags=["complaint cases"])

APPROVER_ROLES = ("service_manager", "admin")


@resolution_router.get(
    "/{feedback_id}/resolution",
    response_model=ResolutionRead,
    summary="How a complaint was put right: cause, remedy, compensation",
    description="Set when the complaint is resolved (`POST .../transitions` with `to: resolved` and a "
    "`resolution`); 404 while it has none.",
)
async def get_resolution(
    feedback_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("feedback:read"))]
) -> ResolutionRead:
    return await service.get_resolution(session, feedback_id)


@resolution_router.post(
    "/{feedback_id}/resolution/compensation/approval",
    response_model=ResolutionRead,
    summary="Approve the compensation",
    description="A service manager (role `service_manager`, or the `admin` scope) approves the compensation "
    "the resolution gives; approving again keeps the first approval. 409 when there is no compensation.",
)
async def approve_compensation(
    feedback_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("feedback:write"))],
) -> ResolutionRead:
    if not (any(principal.is_(r) for r in APPROVER_ROLES) or principal.has("admin")):
        raise ProblemError(403, "Forbidden", "Only a service manager approves compensation.", type="forbidden")
    return await service.approve(session, feedback_id, actor=principal.subject)


@resolution_router.post(
    "/{feedback_id}/resolution/compensation/payment",
    response_model=ResolutionRead,
    summary="Record the day the compensation was paid",
    description="Only an approved compensation is paid (409 `not-approved` otherwise). Publishes "
    "`crm.feedback.compensation_paid.v1`, which feeds the `time_to_compensation_days` indicator; the day counts "
    "in `GET /v1/reports/service-recovery` too. Safe to retry: the same day again answers the same and publishes "
    "nothing; another day is 409 `already-paid`.",
)
async def pay_compensation(
    feedback_id: uuid.UUID,
    body: PaymentIn,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:write"))],
) -> ResolutionRead:
    return await service.mark_paid(session, feedback_id, body.paid_on)


@cause_router.get(
    "",
    response_model=CauseCodeList,
    summary="The cause taxonomy",
    description="The codes a complaint's resolution names as its cause (`include_inactive` also lists the "
    "codes switched off).",
)
async def list_causes(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    include_inactive: Annotated[bool, Query()] = False,
) -> CauseCodeList:
    return await service.list_causes(session, include_inactive=include_inactive)


@cause_router.put(
    "/{code}",
    response_model=CauseCodeRead,
    summary="Add or change a cause code",
    description="Admins keep the taxonomy: a new code answers 201, a change 200. Codes are never deleted "
    "(resolutions name them): `active: false` stops offering one. Needs the `admin` scope; `Idempotency-Key` "
    "makes retries safe.",
    responses={201: {"model": CauseCodeRead, "description": "A new cause code."}},
)
async def put_cause(
    code: Annotated[str, Path(max_length=60, pattern=CAUSE_CODE_PATTERN)],
    body: CauseCodeIn,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "cause_code.put")
    if replay := await idempotency.begin({"code": code, **body.model_dump(mode="json")}):
        return replay.response()
    cause, created = await service.put_cause(session, code, body, actor=principal.subject)
    payload = cause.model_dump(mode="json")
    status_code = 201 if created else 200
    await idempotency.complete(status_code, payload)
    return JsonResponse(payload, status_code=status_code)
