from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from crm_shared.contracts.vocabulary import FeedbackType
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from feedback.intake import service
from feedback.intake.customers import CustomerResolver
from feedback.intake.schemas import FeedbackCreate, FeedbackPage, FeedbackRead

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRead,
    summary="Record feedback (complaint, praise, suggestion, inquiry)",
    description="Stores the feedback and publishes `crm.feedback.received.v1`, which rescores the customer and, "
    "for a complaint, creates the service-recovery task. Identify the customer by `customer_id`, or by the "
    "caller's `customer.phone` / `customer.email`. Send an `Idempotency-Key` header: a retry with the same key "
    "returns the first answer (header `Idempotent-Replayed: true`) and records nothing new.",
    responses={
        400: {"description": "Malformed JSON", "content": {"application/problem+json": {}}},
        503: {"description": "Customer directory unreachable; retry", "content": {"application/problem+json": {}}},
    },
)
async def create_feedback(
    body: FeedbackCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("feedback:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "feedback.create")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    state = request.app.state
    feedback = await service.record_feedback(session, body, CustomerResolver(session, state.http, state.settings))
    payload = FeedbackRead.model_validate(feedback).model_dump(mode="json")
    await idempotency.complete(201, payload)
    return JsonResponse(payload, status_code=201, headers={"Location": f"/v1/feedback/{feedback.id}"})


@router.get("/{feedback_id}", response_model=FeedbackRead, summary="Get one piece of feedback")
async def get_feedback(
    feedback_id: uuid.UUID,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
) -> FeedbackRead:
    return FeedbackRead.model_validate(await service.get_feedback(session, feedback_id))


@router.get("", response_model=FeedbackPage, summary="List feedback, newest first")
async def list_feedback(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    customer_id: uuid.UUID | None = None,
    type: FeedbackType | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> FeedbackPage:
    return await service.list_feedback(
        session, customer_id=customer_id, type=type.value if type else None, limit=limit, cursor=cursor
    )
