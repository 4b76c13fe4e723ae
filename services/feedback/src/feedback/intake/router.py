from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.responses import StreamingResponse

from crm_shared.contracts.vocabulary import FeedbackType
from crm_shared.http import live
from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from feedback.intake import service
from feedback.intake.customers import CustomerResolver
from feedback.intake.schemas import MAX_BATCH, BatchResult, FeedbackBatch, FeedbackCreate, FeedbackPage, FeedbackRead

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])
live_router = APIRouter(prefix="/v1/live", tags=["live"])
# Every change of feedback and its case (feedback's trigger, migration 0007_console_server).
FEEDBACK_FEED = live.LiveFeed(channel="crm_live_feedback", event="case", filters={"customer_id": ("customer_id",)})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRead,
    summary="Record feedback (complaint, inquiry, technical support, suggestion, praise, survey response)",
    description="Stores the feedback and publishes `crm.feedback.received.v1`, which rescores the customer and "
    "runs the type's playbook (a complaint's service-recovery call back, answering an inquiry, scheduling "
    "technical support, reviewing a suggestion, which also votes on the product backlog). Complaints, inquiries, "
    "technical support and suggestions are cases: they start `received` with SLA clocks; praise and survey "
    "answers are `recorded`. Identify the customer by `customer_id`, or by the "
    "caller's `customer.phone` / `customer.email`. A caller unknown to contacts is never turned away: with "
    "`customer.name` they become a lead in contacts; without it the feedback is stored **unmatched** "
    "(`customer_id` null, listed by `GET /v1/feedback?unmatched=true`) and announced once the customer appears "
    "in contacts with that phone or email. A `survey_response` carries `survey` {metric, score} (CSAT 1-5, "
    "NPS 0-10, CES 1-7) and may name the complaint it answers in `related_feedback_id`.\n\n"
    "Retries: the same (`source_system`, `external_ref`) sent again, with any or no `Idempotency-Key`, "
    "answers **200** with the feedback first stored and records nothing. With an `Idempotency-Key`, a retry "
    "with the same key returns the first answer (header `Idempotent-Replayed: true`).",
    responses={
        200: {"model": FeedbackRead, "description": "Already stored under this `source_system` + `external_ref`"},
        400: {"description": "Malformed JSON", "content": {"application/problem+json": {}}},
        422: {
            "description": "Validation failed: fields, survey score out of range, unknown or other customer's "
            "`related_feedback_id`, unknown or erased `customer_id`",
            "content": {"application/problem+json": {}},
        },
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
    recorded = await service.record_feedback(session, body, CustomerResolver(session, state.http, state.settings))
    payload = FeedbackRead.model_validate(recorded.feedback).model_dump(mode="json")
    status_code = 201 if recorded.created else 200
    await idempotency.complete(status_code, payload)
    return JsonResponse(payload, status_code=status_code, headers={"Location": f"/v1/feedback/{recorded.feedback.id}"})


@router.post(
    "/batch",
    response_model=BatchResult,
    summary="Record up to 1000 pieces of feedback in one request (call-centre buffers)",
    description=f"For systems that buffer feedback and send it in bulk. Each item is a `FeedbackCreate` body, "
    f"checked and stored on its own: the answer is **200** with one result per item, in order: `status` 201 "
    f"(stored), 200 (already stored under the same `source_system` + `external_ref`: the first one is returned) "
    f"or a problem status (422, 503...) with `errors`, in which case that item stored nothing. A bad item never "
    f"undoes the good ones, and events are published only for newly stored items. Re-sending a batch is safe: "
    f"items with a source reference are not stored twice; an `Idempotency-Key` on the batch replays the first "
    f"answer. More than {MAX_BATCH} items is a 422 for the whole request.",
    responses={
        400: {"description": "Malformed JSON", "content": {"application/problem+json": {}}},
        422: {
            "description": f"Not an object with 1 to {MAX_BATCH} `items` (nothing stored)",
            "content": {"application/problem+json": {}},
        },
    },
)
async def create_feedback_batch(
    body: FeedbackBatch,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("feedback:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "feedback.batch")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    state = request.app.state
    results = await service.record_batch(session, body.items, CustomerResolver(session, state.http, state.settings))
    payload = BatchResult(results=results).model_dump(mode="json", exclude_unset=True)
    await idempotency.complete(200, payload)
    return JsonResponse(payload, status_code=200)


# `:uuid`: `/v1/feedback/batch` is not an id (a GET there is a 405, not a 422).
@router.get("/{feedback_id:uuid}", response_model=FeedbackRead, summary="Get one piece of feedback")
async def get_feedback(
    feedback_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
) -> FeedbackRead:
    feedback = FeedbackRead.model_validate(await service.get_feedback(session, feedback_id))
    await record_access(request, session, [feedback.customer_id])
    return feedback


@router.get(
    "",
    response_model=FeedbackPage,
    summary="List feedback, newest first",
    description="Filter by customer, kind, source reference, or `unmatched=true` for feedback from callers "
    "not (yet) known to contacts, waiting for their customer.",
)
async def list_feedback(
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    customer_id: uuid.UUID | None = None,
    type: FeedbackType | None = None,
    unmatched: Annotated[
        bool | None, Query(description="true: only feedback without a customer yet; false: only matched.")
    ] = None,
    external_ref: Annotated[str | None, Query(max_length=200, description="The source system's reference.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> FeedbackPage:
    page = await service.list_feedback(
        session,
        customer_id=customer_id,
        type=type.value if type else None,
        limit=limit,
        cursor=cursor,
        unmatched=unmatched,
        external_ref=external_ref,
    )
    await record_access(request, session, (item.customer_id for item in page.items))
    return page


@live_router.get(
    "",
    summary="Live feedback and case changes (server-sent events)",
    description="A `text/event-stream`: each recorded or changed piece of feedback (a case's status, assignee, SLA) "
    "of `customer_id`, or of every customer, as an `event: case` whose data is what `GET /v1/feedback/{id}` "
    "returns; `: keepalive` comments every 15 s; `event: resync` when changes may have been missed.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_feedback(
    request: Request,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    customer_id: uuid.UUID | None = None,
) -> StreamingResponse:
    return live.stream(request, FEEDBACK_FEED.event, {"customer_id": str(customer_id) if customer_id else None})
