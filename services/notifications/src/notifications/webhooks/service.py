"""Webhook use cases: subscriptions, one delivery per (subscription, event), history, replay.

The `notifications-webhooks` consumer turns each event of the four topics into delivery rows in
the consumer's transaction (with its inbox row), so an event is queued exactly once per
subscription; the delivery loop sends them. Deliveries carry the event as published and nothing
more: no customer card is added, so an integrator never learns more about a customer than the
event itself said. When a customer is erased, their undelivered deliveries are cancelled and the
stored bodies reduced to id and type (the erasure event itself is still delivered).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared import access
from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import EVENT_PAYLOADS
from crm_shared.contracts.scopes import read_scope_of
from crm_shared.db import new_id, utcnow
from crm_shared.http.auth import Principal
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound, ProblemError, ValidationFailed
from crm_shared.projections import get_customer
from notifications.config import Settings
from notifications.outbound import lease, schedule, sealing, signing
from notifications.outbound.attempts import AttemptRead
from notifications.outbound.targets import configured_guard
from notifications.outbound.transports import Outcome
from notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from notifications.webhooks.repository import WebhookRepository
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
from notifications.webhooks.watch import SUBSCRIPTIONS, matches

ERASURE_EVENT = "crm.contact.erased.v1"


def _customer_id(subject: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(subject)
    except ValueError:
        return None  # not about one customer (indicator alerts)


# -- the consumer ------------------------------------------------------------------------------


async def on_event(session: AsyncSession, event: Envelope) -> None:
    """The active subscriptions come from the worker's copy (webhooks/watch.py): no query per event."""
    subscriptions = [s for s in await SUBSCRIPTIONS.active(session) if matches(s.event_types, event.type)]
    if not subscriptions:
        return
    repository = WebhookRepository(session)
    now = utcnow()
    payload = event.model_dump(mode="json")
    await repository.insert_deliveries(
        [
            {
                "id": new_id(),
                "subscription_id": s.id,
                "event_id": event.id,
                "event_type": event.type,
                "customer_id": _customer_id(event.subject),
                "payload": payload,
                "status": "queued",
                "attempts": 0,
                "attempts_before_requeue": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for s in subscriptions
        ]
    )


# -- subscriptions -----------------------------------------------------------------------------


def _owner_filter(principal: Principal) -> str | None:
    """Subscriptions belong to their creator; an admin sees everyone's."""
    return None if principal.is_("admin") or "admin" in principal.scopes else principal.subject


def check_may_subscribe(principal: Principal, patterns: list[str], reach: access.Reach) -> None:
    """A subscription receives every customer's events of the families it names: its creator must
    reach every customer by name and hold the read scope of each family (crm.contact.* needs
    contacts:read, ...)."""
    if not reach.every_customer or reach.pseudonymised:
        raise ProblemError(
            403,
            "Forbidden",
            "A webhook receives the events of every customer: only callers who see every customer "
            "(agents, service managers, admins, integrations) may subscribe.",
            type="forbidden",
        )
    needed = sorted({read_scope_of(t) for t in EVENT_PAYLOADS if matches(patterns, t)})
    missing = [scope for scope in needed if not principal.has(scope)]
    if missing:
        raise ProblemError(
            403,
            "Forbidden",
            f"These event types need the {', '.join(repr(s) for s in missing)} scope your token lacks: "
            "subscribe only to the families you may read.",
            type="forbidden",
            missing_scopes=missing,
        )


async def create_subscription(
    session: AsyncSession, body: WebhookCreate, principal: Principal, settings: Settings
) -> WebhookCreated:
    check_may_subscribe(principal, body.event_types, access.current())
    if (refused := configured_guard(settings).refusal_of_url(body.url)) is not None:
        raise ValidationFailed("url", refused, "private_target")
    secret = signing.new_secret()
    subscription = WebhookSubscription(
        id=new_id(),
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        secret=sealing.sealer(settings).seal(secret),  # encrypted at rest (outbound/sealing.py)
        created_by=principal.subject,
        created_at=utcnow(),
    )
    await WebhookRepository(session).insert(subscription)
    created = WebhookRead.model_validate(subscription).model_dump()
    return WebhookCreated(**created, secret=secret)


async def _subscription(session: AsyncSession, subscription_id: uuid.UUID, principal: Principal) -> WebhookSubscription:
    """The caller's own subscription (any, for an admin); someone else's is a 404."""
    repository = WebhookRepository(session)
    subscription = await repository.subscription(subscription_id, created_by=_owner_filter(principal))
    if subscription is None:
        raise NotFound("Webhook", subscription_id)
    return subscription


async def get_subscription(session: AsyncSession, subscription_id: uuid.UUID, principal: Principal) -> WebhookRead:
    return WebhookRead.model_validate(await _subscription(session, subscription_id, principal))


async def list_subscriptions(session: AsyncSession, filters: WebhookFilters, principal: Principal) -> WebhookPage:
    rows = await WebhookRepository(session).list_subscriptions(
        filters.limit + 1, decode_time_cursor(filters.cursor), created_by=_owner_filter(principal)
    )
    last = rows[filters.limit - 1] if len(rows) > filters.limit else None
    return WebhookPage(
        items=[WebhookRead.model_validate(r) for r in rows[: filters.limit]],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )


async def delete_subscription(session: AsyncSession, subscription_id: uuid.UUID, principal: Principal) -> None:
    """Nothing more is sent; the delivery history stays readable for the record."""
    subscription = await _subscription(session, subscription_id, principal)
    now = utcnow()
    subscription.deleted_at = now
    await WebhookRepository(session).cancel_pending(subscription_id, "subscription deleted", now)


async def list_deliveries(
    session: AsyncSession, subscription_id: uuid.UUID, filters: DeliveryFilters, principal: Principal
) -> DeliveryPage:
    await _subscription(session, subscription_id, principal)
    repository = WebhookRepository(session)
    rows = await repository.deliveries(
        subscription_id, filters.status, filters.limit + 1, decode_time_cursor(filters.cursor)
    )
    last = rows[filters.limit - 1] if len(rows) > filters.limit else None
    page = rows[: filters.limit]
    attempts = await repository.attempts_of([d.id for d in page])
    return DeliveryPage(
        items=[_delivery_read(d, attempts[d.id]) for d in page],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )


def _delivery_read(delivery: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryRead:
    read = DeliveryRead.model_validate(delivery)
    return read.model_copy(update={"attempts_log": [AttemptRead.model_validate(a) for a in attempts]})


async def replay_delivery(
    session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID, principal: Principal
) -> DeliveryRead:
    """Send again (dead, delivered or cancelled): same `webhook-id`, fresh timestamp and signature,
    a fresh retry budget."""
    await _subscription(session, subscription_id, principal)
    repository = WebhookRepository(session)
    delivery = await repository.lock(delivery_id)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise NotFound("Delivery", delivery_id)
    if delivery.status in ("queued", "sending", "retrying"):
        raise Conflict(f"The delivery is still {delivery.status}; it will be sent.", current_status=delivery.status)
    if delivery.status == "cancelled" and delivery.status_reason == "customer erased":
        raise Conflict("The customer was erased: the event is not sent again.", current_status=delivery.status)
    now = utcnow()
    delivery.status = "queued"
    delivery.status_reason = "replayed"
    delivery.attempts_before_requeue = delivery.attempts
    delivery.next_attempt_at = now
    delivery.updated_at = now
    await repository.flush()
    return _delivery_read(delivery, (await repository.attempts_of([delivery.id]))[delivery.id])


# -- merge and erasure -----------------------------------------------------------------------


async def on_customer_merged(session: AsyncSession, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    await WebhookRepository(session).move_customer(merged_id, survivor_id)


async def on_customer_erased(session: AsyncSession, customer_ids: list[uuid.UUID]) -> None:
    await WebhookRepository(session).redact_customer(customer_ids, utcnow())


# -- the delivery loop's decisions -----------------------------------------------------------


@dataclass(frozen=True)
class OutgoingDelivery:
    id: uuid.UUID
    number: int
    url: str
    secret: str
    event_id: uuid.UUID
    body: dict[str, Any]


async def prepare(
    session: AsyncSession, delivery: WebhookDelivery, now: datetime, settings: Settings
) -> OutgoingDelivery | None:
    repository = WebhookRepository(session)
    subscription = await repository.subscription(delivery.subscription_id)
    if subscription is None:
        schedule.stop(delivery, "cancelled", "subscription deleted", now)
        return None
    if delivery.customer_id is not None and delivery.event_type != ERASURE_EVENT:
        # The erasure may have been handled after this delivery was queued (another consumer).
        customer = await get_customer(session, delivery.customer_id)
        if customer is not None and customer.erased_at is not None:
            schedule.stop(delivery, "cancelled", "customer erased", now)
            delivery.payload = {"id": str(delivery.event_id), "type": delivery.event_type, "redacted": True}
            return None
    await lease.close_interrupted(repository, delivery, now)
    return OutgoingDelivery(
        id=delivery.id,
        number=lease.lease(repository, delivery, now, settings),
        url=subscription.url,
        secret=sealing.sealer(settings).open(subscription.secret),
        event_id=delivery.event_id,
        body=delivery.payload,
    )


async def record_outcome(
    session: AsyncSession, job: OutgoingDelivery, outcome: Outcome, *, now: datetime, settings: Settings
) -> None:
    """Delivered, a retry after backoff, or dead; a settled delivery keeps the last HTTP status."""
    repository = WebhookRepository(session)
    delivery = await lease.finish(repository, job.id, job.number, outcome, done="delivered", now=now, settings=settings)
    if delivery is not None:
        delivery.last_status_code = outcome.status_code
        if outcome.ok:
            delivery.delivered_at = now
