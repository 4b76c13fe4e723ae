"""All queries on webhook subscriptions, deliveries and their attempts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from notifications.outbound.attempts import PENDING_STATUSES
from notifications.outbound.repository import DeliveryQueueRepository
from notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@dataclass(frozen=True, slots=True)
class ActiveSubscription:
    id: uuid.UUID
    event_types: tuple[str, ...]


_SUBSCRIPTIONS = WebhookSubscription.__table__
_ACTIVE = select(_SUBSCRIPTIONS.c.id, _SUBSCRIPTIONS.c.event_types).where(_SUBSCRIPTIONS.c.deleted_at.is_(None))


class WebhookRepository(DeliveryQueueRepository[WebhookDelivery, WebhookAttempt]):
    item_model = WebhookDelivery
    attempt_model = WebhookAttempt
    attempt_key = "delivery_id"

    async def flush(self) -> None:
        await self.session.flush()

    async def subscription(
        self, subscription_id: uuid.UUID, *, created_by: str | None = None
    ) -> WebhookSubscription | None:
        """The live subscription; with `created_by`, only if that caller created it."""
        found = await self.session.get(WebhookSubscription, subscription_id)
        if found is None or found.deleted_at is not None:
            return None
        return found if created_by is None or found.created_by == created_by else None

    async def active_subscriptions(self) -> list[ActiveSubscription]:
        """Id and event types of every live subscription: what the consumer matches events with."""
        rows = (await self.session.execute(_ACTIVE)).all()
        return [ActiveSubscription(row.id, tuple(row.event_types)) for row in rows]

    async def list_subscriptions(
        self, limit: int, before: tuple[datetime, uuid.UUID] | None, *, created_by: str | None = None
    ) -> list[WebhookSubscription]:
        query = select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None))
        if created_by is not None:
            query = query.where(WebhookSubscription.created_by == created_by)
        if before:
            query = query.where(tuple_(WebhookSubscription.created_at, WebhookSubscription.id) < tuple_(*before))
        query = query.order_by(WebhookSubscription.created_at.desc(), WebhookSubscription.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def insert_deliveries(self, rows: list[dict[str, Any]]) -> None:
        """One per (subscription, event): a redelivered event inserts nothing."""
        if rows:
            await self.session.execute(
                insert(WebhookDelivery)
                .values(rows)
                .on_conflict_do_nothing(constraint="uq_webhook_deliveries_subscription_event")
            )

    async def cancel_pending(self, subscription_id: uuid.UUID, reason: str, now: datetime) -> None:
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status.in_(PENDING_STATUSES))
            .values(status="cancelled", status_reason=reason, next_attempt_at=None, updated_at=now)
        )

    async def deliveries(
        self, subscription_id: uuid.UUID, status: str | None, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[WebhookDelivery]:
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        if status:
            query = query.where(WebhookDelivery.status == status)
        if before:
            query = query.where(tuple_(WebhookDelivery.created_at, WebhookDelivery.id) < tuple_(*before))
        query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def attempts_of(self, delivery_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[WebhookAttempt]]:
        found: dict[uuid.UUID, list[WebhookAttempt]] = {d: [] for d in delivery_ids}
        if delivery_ids:
            query = (
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(delivery_ids))
                .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
            )
            for attempt in (await self.session.scalars(query)).all():
                found[attempt.delivery_id].append(attempt)
        return found

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        await self.session.execute(
            update(WebhookDelivery).where(WebhookDelivery.customer_id == from_id).values(customer_id=to_id)
        )

    async def redact_customer(self, customer_ids: list[uuid.UUID], now: datetime) -> None:
        base = update(WebhookDelivery).where(WebhookDelivery.customer_id.in_(customer_ids))
        await self.session.execute(
            base.where(WebhookDelivery.status.in_(PENDING_STATUSES)).values(
                status="cancelled", status_reason="customer erased", next_attempt_at=None, updated_at=now
            )
        )
        # Everything but the erasure notice itself: that one carries ids only, and integrators need it.
        await self.session.execute(
            base.where(WebhookDelivery.event_type != "crm.contact.erased.v1").values(
                payload=func.jsonb_build_object(
                    "id", WebhookDelivery.event_id, "type", WebhookDelivery.event_type, "redacted", True
                ),
                updated_at=now,
            )
        )
