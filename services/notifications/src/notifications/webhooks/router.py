from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from notifications.webhooks import service
from notifications.webhooks.schemas import (
    DeliveryFilters,
    DeliveryPage,
    DeliveryRead,
    WebhookCreate,
    WebhookCreated,
    WebhookFilters,
    WebhookPage,
    WebhookRead,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
_READ = Depends(require("webhooks:read", "webhooks:write"))
_WRITE = Depends(require("webhooks:write"))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    summary="Subscribe a URL to events",
    description="Every event of `crm.contacts`, `crm.feedback`, `crm.scores` and `crm.outreach` whose type matches "
    "is POSTed once to `url` as its CloudEvents envelope, signed per Standard Webhooks: headers `webhook-id` "
    "(the event id: deduplicate on it), `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "
    "'{id}.{timestamp}.{body}'>` keyed with the base64-decoded `secret` (returned only here). A non-2xx answer "
    "or a timeout is retried with exponential backoff, then the delivery is `dead` (replayable). Events are "
    "sent as published, never enriched with the customer card; an erased customer's undelivered events are "
    "cancelled. A `url` inside the network (a private, loopback, link-local or metadata address, now or "
    "when resolved before a send) is refused: 422 here, a `dead` delivery at send time.\n\n"
    "**Who may subscribe.** Only callers who see every customer (not account managers, partners or "
    "analysts), and only to event families their token may read: `crm.contact.*` needs `contacts:read`, "
    "`crm.feedback.*` `feedback:read`, `crm.score.*` and `crm.indicator.*` `scores:read`, `crm.task.*` "
    "`tasks:read` (403 otherwise). A subscription belongs to its creator: anyone else gets 404 on it "
    "(read, list, delete, deliveries, replay), except an admin.",
    responses={
        403: {"description": "An event family the token may not read", "content": {"application/problem+json": {}}}
    },
)
async def create_webhook(
    body: WebhookCreate, request: Request, session: SessionDep, principal: Annotated[Principal, _WRITE]
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "webhooks.create")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    created = await service.create_subscription(session, body, principal, request.app.state.settings)
    payload = created.model_dump(mode="json")
    await idempotency.complete(201, payload)
    return JsonResponse(payload, status_code=201, headers={"Location": f"/v1/webhooks/{created.id}"})


@router.get("", response_model=WebhookPage, summary="List webhook subscriptions, newest first")
async def list_webhooks(
    session: SessionDep, principal: Annotated[Principal, _READ], filters: Annotated[WebhookFilters, Depends()]
) -> WebhookPage:
    return await service.list_subscriptions(session, filters, principal)


@router.get("/{webhook_id}", response_model=WebhookRead, summary="Get a webhook subscription")
async def get_webhook(
    webhook_id: uuid.UUID, session: SessionDep, principal: Annotated[Principal, _READ]
) -> WebhookRead:
    return await service.get_subscription(session, webhook_id, principal)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook subscription",
    description="Nothing more is sent (pending deliveries are cancelled); the delivery history is kept.",
    response_class=Response,
)
async def delete_webhook(
    webhook_id: uuid.UUID, session: SessionDep, principal: Annotated[Principal, _WRITE]
) -> Response:
    await service.delete_subscription(session, webhook_id, principal)
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=DeliveryPage,
    summary="Delivery history of a subscription, newest first",
    description="Each delivery with its attempts (time, outcome, HTTP status, error).",
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    session: SessionDep,
    principal: Annotated[Principal, _READ],
    filters: Annotated[DeliveryFilters, Depends()],
) -> DeliveryPage:
    return await service.list_deliveries(session, webhook_id, filters, principal)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryRead,
    summary="Send a delivery again",
    description="For a dead, delivered or cancelled delivery: queued again with the same `webhook-id` and a "
    "fresh retry budget.",
    responses={
        409: {
            "description": "Still pending, or the customer was erased",
            "content": {"application/problem+json": {}},
        }
    },
)
async def replay_delivery(
    webhook_id: uuid.UUID, delivery_id: uuid.UUID, session: SessionDep, principal: Annotated[Principal, _WRITE]
) -> DeliveryRead:
    return await service.replay_delivery(session, webhook_id, delivery_id, principal)
