from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, status

from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from notifications.messages import service
from notifications.messages.schemas import (
    MessageCreate,
    MessageDetail,
    MessageFilters,
    MessagePage,
    MessageRead,
    StaffList,
    StaffName,
    StaffPut,
    StaffRead,
    TemplateKey,
    TemplateList,
    TemplatePut,
    TemplateRead,
)

router = APIRouter(tags=["messages"])
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The message is not dead", "content": {"application/problem+json": {}}}
}


@router.post(
    "/v1/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageRead,
    summary="Send a templated email or SMS to a customer",
    description="Queues the message (status `queued`); the notifications worker sends it within milliseconds, "
    "in the customer's language (fallback English), unless the customer gave no consent for the channel "
    "(`suppressed`) or it is their quiet hours (`scheduled` until they end). Follow it with "
    "`GET /v1/messages/{id}`. With an `Idempotency-Key`, a retry returns the first answer.",
    responses={422: {"description": "Unknown template or customer", "content": {"application/problem+json": {}}}},
)
async def send_message(
    body: MessageCreate,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("tasks:write"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "messages.send")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    message = await service.send_to_customer(session, body, actor=principal.subject)
    payload = message.model_dump(mode="json")
    await idempotency.complete(201, payload)
    return JsonResponse(payload, status_code=201, headers={"Location": f"/v1/messages/{message.id}"})


@router.get(
    "/v1/messages",
    response_model=MessagePage,
    summary="List messages, newest first",
    description="Filter by customer, status (`status=dead` lists the dead letters) or channel.",
)
async def list_messages(
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("tasks:read"))],
    filters: Annotated[MessageFilters, Depends()],
) -> MessagePage:
    page = await service.list_messages(session, filters)
    await record_access(request, session, (message.customer_id for message in page.items))
    return page


@router.get("/v1/messages/{message_id}", response_model=MessageDetail, summary="Get a message and its delivery log")
async def get_message(
    message_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("tasks:read"))],
) -> MessageDetail:
    message = await service.get_message(session, message_id)
    await record_access(request, session, [message.customer_id])
    return message


@router.post(
    "/v1/messages/{message_id}/retry",
    response_model=MessageRead,
    summary="Re-queue a dead message (admin)",
    description="The message is attempted again with a fresh retry budget and the same id (Message-ID, "
    "Idempotency-Key), the staff address and template resolved anew.",
    responses=_CONFLICT,
)
async def retry_message(
    message_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("admin"))]
) -> MessageRead:
    return await service.retry_message(session, message_id)


@router.get("/v1/message-templates", response_model=TemplateList, summary="List message templates")
async def list_templates(session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]) -> TemplateList:
    return await service.list_templates(session)


@router.get("/v1/message-templates/{key}", response_model=TemplateRead, summary="Get a message template")
async def get_template(
    key: Annotated[TemplateKey, Path()], session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]
) -> TemplateRead:
    return await service.get_template(session, key)


@router.put(
    "/v1/message-templates/{key}",
    response_model=TemplateRead,
    summary="Create or replace a message template (admin)",
    description="Variants per language (BCP 47), each `{subject, body}`, English required as the fallback. "
    "Placeholders: `{{customer.name}}`, `{{customer.tier}}`, `{{customer.owner}}`, `{{event.type}}`, "
    "`{{event.time}}`, `{{data.<field of the trigger event>}}`, `{{staff.name}}`; an unknown value renders empty.",
)
async def put_template(
    key: Annotated[TemplateKey, Path()],
    body: TemplatePut,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> TemplateRead:
    return await service.put_template(session, key, body, actor=principal.subject)


@router.get("/v1/staff", response_model=StaffList, summary="The staff directory (where staff notifications go)")
async def list_staff(session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]) -> StaffList:
    return await service.list_staff(session)


@router.get("/v1/staff/{name}", response_model=StaffRead, summary="Get a staff member's addresses")
async def get_staff(
    name: Annotated[StaffName, Path()], session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]
) -> StaffRead:
    return await service.get_staff(session, name)


@router.put(
    "/v1/staff/{name}",
    response_model=StaffRead,
    summary="Create or replace a staff member's entry (admin)",
    description="`name` as account owners and task assignees are written. `notify_staff` to `owner` uses the "
    "customer's owner's entry; `team_lead` the owner's `reports_to` (else the NOTIFICATIONS_STAFF_TEAM_LEAD "
    "setting, else the first entry with role `team_lead`); `manager` the team lead's `reports_to` (else "
    "NOTIFICATIONS_STAFF_MANAGER, else the first with role `manager`).",
)
async def put_staff(
    name: Annotated[StaffName, Path()],
    body: StaffPut,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("admin"))],
) -> StaffRead:
    return await service.put_staff(session, name, body)
