"""Events the contacts service produces."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.customers.models import Customer
from crm_shared.contracts import Topics, new_event
from crm_shared.contracts.events import ContactCreatedV1, ContactUpdatedV1
from crm_shared.contracts.vocabulary import CreditStanding, LifecycleStage, Tier
from crm_shared.messaging.outbox import add_event

SOURCE = "crm/contacts"


def _card(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "tier": Tier(customer.tier),
        "owner": customer.owner,
        "lifecycle_stage": LifecycleStage(customer.lifecycle_stage),
        "credit_standing": CreditStanding(customer.credit_standing),
    }


async def publish_customer_created(session: AsyncSession, customer: Customer) -> None:
    card = ContactCreatedV1(**_card(customer), created_at=customer.created_at)
    await add_event(
        session,
        new_event(type="crm.contact.created.v1", source=SOURCE, subject=customer.id, data=card),
        Topics.contacts,
    )


async def publish_customer_updated(session: AsyncSession, customer: Customer, changed: list[str]) -> None:
    card = ContactUpdatedV1(
        **_card(customer), version=customer.version, changed=changed, updated_at=customer.updated_at
    )
    await add_event(
        session,
        new_event(type="crm.contact.updated.v1", source=SOURCE, subject=customer.id, data=card),
        Topics.contacts,
    )
