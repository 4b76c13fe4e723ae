"""Events the contacts service produces."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activity_records.models import Activity
from contacts.customer_records.models import Customer
from crm_shared.contracts import Envelope, Topics, new_event
from crm_shared.contracts.events import (
    ActivityRecordedV1,
    ContactCreatedV1,
    ContactErasedV1,
    ContactMergedV1,
    ContactUpdatedV1,
    CreditChangedV1,
    LifecycleChangedV1,
    TierChangedV1,
)
from crm_shared.contracts.vocabulary import CreditStanding, LifecycleStage, Tier
from crm_shared.messaging.outbox import add_event

SOURCE = "crm/contacts"


async def _publish(session: AsyncSession, type: str, customer_id: uuid.UUID, payload: BaseModel) -> None:
    """Stages the event in this transaction's outbox; the customer id is the partition key."""
    await add_event(session, new_event(type=type, source=SOURCE, subject=customer_id, data=payload), Topics.contacts)


def _card(customer: Customer | SimpleNamespace) -> dict[str, Any]:
    return {
        "customer_id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "tier": Tier(customer.tier),
        "owner": customer.owner,
        "owner_team": customer.owner_team,
        "partner": customer.partner,
        "lifecycle_stage": LifecycleStage(customer.lifecycle_stage),
        "credit_standing": CreditStanding(customer.credit_standing),
        "region": customer.region,
        "industry": customer.industry,
        "consent": dict(customer.consent or {}),
        "language": customer.language,
        "timezone": customer.timezone,
        "entitlements": list(getattr(customer, "entitlements", None) or []),
    }


def customer_created_event(customer: Customer | SimpleNamespace) -> Envelope:
    """`crm.contact.created.v1` of a new record (for the topic `Topics.contacts`); the bulk import's
    records are plain ones built in memory with the same attributes."""
    card = ContactCreatedV1(**_card(customer), created_at=customer.created_at)
    return new_event(type="crm.contact.created.v1", source=SOURCE, subject=customer.id, data=card)


async def publish_customer_created(session: AsyncSession, customer: Customer) -> None:
    await add_event(session, customer_created_event(customer), Topics.contacts)


async def publish_customer_updated(session: AsyncSession, customer: Customer, changed: list[str]) -> None:
    card = ContactUpdatedV1(
        **_card(customer), version=customer.version, changed=changed, updated_at=customer.updated_at
    )
    await _publish(session, "crm.contact.updated.v1", customer.id, card)


async def publish_customer_merged(
    session: AsyncSession, survivor: Customer, merged_id: uuid.UUID, merged_at: datetime
) -> None:
    """Keyed by the merged id, so it follows that customer's earlier events on their partition."""
    # model_validate: the survivor's card is a dict, which the payload validates into its card model.
    payload = ContactMergedV1.model_validate(
        {"survivor_id": survivor.id, "merged_id": merged_id, "survivor": _card(survivor), "merged_at": merged_at}
    )
    await _publish(session, "crm.contact.merged.v1", merged_id, payload)


async def publish_customer_erased(
    session: AsyncSession, customer_id: uuid.UUID, erased_at: datetime, aliases: list[uuid.UUID]
) -> None:
    payload = ContactErasedV1(customer_id=customer_id, erased_at=erased_at, aliases=aliases)
    await _publish(session, "crm.contact.erased.v1", customer_id, payload)


async def publish_activity_recorded(session: AsyncSession, activity: Activity) -> None:
    # model_validate: the stored details are JSON, which the payload validates into the kind's model.
    payload = ActivityRecordedV1.model_validate(
        {
            "activity_id": activity.id,
            "customer_id": activity.customer_id,
            "occurred_at": activity.occurred_at,
            "details": activity.details,
            "recorded_at": activity.recorded_at,
        }
    )
    await _publish(session, "crm.contact.activity_recorded.v1", activity.customer_id, payload)


async def publish_tier_changed(
    session: AsyncSession,
    customer: Customer,
    *,
    previous: str | None,
    source: Literal["rules", "manual"],
    reason: str,
) -> None:
    payload = TierChangedV1(
        customer_id=customer.id,
        previous=Tier(previous) if previous else None,
        current=Tier(customer.tier),
        source=source,
        reason=reason,
        changed_at=customer.updated_at,
    )
    await _publish(session, "crm.contact.tier_changed.v1", customer.id, payload)


async def publish_lifecycle_changed(
    session: AsyncSession,
    customer: Customer,
    *,
    previous: str | None,
    source: Literal["rules", "manual"] = "manual",
    reason: str | None = None,
) -> None:
    payload = LifecycleChangedV1(
        customer_id=customer.id,
        previous=LifecycleStage(previous) if previous else None,
        current=LifecycleStage(customer.lifecycle_stage),
        changed_at=customer.updated_at,
        tier=Tier(customer.tier),
        credit=CreditStanding(customer.credit_standing),
        source=source,
        reason=reason,
    )
    await _publish(session, "crm.contact.lifecycle_changed.v1", customer.id, payload)


async def publish_credit_changed(session: AsyncSession, customer: Customer, *, previous: str | None) -> None:
    payload = CreditChangedV1(
        customer_id=customer.id,
        previous=CreditStanding(previous) if previous else None,
        current=CreditStanding(customer.credit_standing),
        reason=customer.credit_reason,
        changed_at=customer.updated_at,
    )
    await _publish(session, "crm.contact.credit_changed.v1", customer.id, payload)
