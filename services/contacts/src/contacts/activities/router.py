from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status

from contacts.activities import service
from contacts.activities.schemas import ActivityCreate, ActivityFilters, ActivityPage, ActivityRead
from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse

router = APIRouter(prefix="/v1/customers", tags=["activities"])


@router.post(
    "/{customer_id}/activities",
    status_code=status.HTTP_201_CREATED,
    response_model=ActivityRead,
    summary="Record an order, contract, visit or call",
    description="Adds one piece of the customer's commercial history and publishes "
    "`crm.contact.activity_recorded.v1`. An order or contract re-evaluates the tier rules "
    "(which may publish `crm.contact.tier_changed.v1` and `crm.contact.updated.v1`). "
    "With an `external_ref` already recorded for this customer, the existing activity is returned "
    "with 200 and nothing is published, so a re-import is harmless. `Idempotency-Key` makes retries safe.",
    responses={
        200: {"model": ActivityRead, "description": "Already recorded under this `external_ref`: the existing one"},
        409: {"description": "The customer record was merged or erased, or a concurrent write took the external_ref"},
    },
)
async def record_activity(
    customer_id: uuid.UUID,
    body: ActivityCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("contacts:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "activities.record")
    if replay := await idempotency.begin({"customer_id": str(customer_id), "body": body.model_dump(mode="json")}):
        return replay.response()
    activity, created = await service.record_activity(session, customer_id, body, actor=principal.subject)
    payload = ActivityRead.model_validate(activity).model_dump(mode="json")
    status_code = 201 if created else 200
    await idempotency.complete(status_code, payload)
    location = f"/v1/customers/{customer_id}/activities/{activity.id}"
    return JsonResponse(payload, status_code=status_code, headers={"Location": location} if created else None)


@router.get(
    "/{customer_id}/activities",
    response_model=ActivityPage,
    summary="A customer's commercial history",
    description="Newest first, keyset-paginated. Filter by `kind` (order, contract, visit, call) "
    "and `since` (occurred at or after).",
)
async def list_activities(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
    filters: Annotated[ActivityFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> ActivityPage:
    page = await service.list_activities(session, customer_id, filters, limit=limit, cursor=cursor)
    await record_access(request, session, [customer_id])
    return page


@router.get(
    "/{customer_id}/activities/{activity_id}",
    response_model=ActivityRead,
    summary="One activity",
    description="The activity as recorded (the `Location` of a 201 from POST).",
)
async def get_activity(
    customer_id: uuid.UUID,
    activity_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("contacts:read"))],
) -> ActivityRead:
    activity = ActivityRead.model_validate(await service.get_activity(session, customer_id, activity_id))
    await record_access(request, session, [customer_id])
    return activity
