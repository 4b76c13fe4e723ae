"""The local copy of the customer card that feedback, scoring and notifications keep.

Fed by `crm.contact.*` events, so the complaint path never calls the contacts service: it
already knows the customer's tier and account owner. One definition for the three services.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Row, String, bindparam, func, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import ContactCreatedV1, ContactUpdatedV1
from crm_shared.db import Base


class CustomerProjection(Base):
    __tablename__ = "customer_projection"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    tier: Mapped[str] = mapped_column(String(20), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Time of the event the row reflects: an older event never overwrites a newer one.
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


async def upsert_customer(session: AsyncSession, card: ContactCreatedV1 | ContactUpdatedV1, as_of: datetime) -> None:
    values = {
        "customer_id": card.customer_id,
        "name": card.name,
        "email": card.email,
        "phone": card.phone,
        "tier": card.tier.value,
        "owner": card.owner,
        "as_of": as_of,
    }
    statement = insert(CustomerProjection).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CustomerProjection.customer_id],
            set_={k: statement.excluded[k] for k in values if k != "customer_id"},
            where=CustomerProjection.as_of <= statement.excluded.as_of,
        )
    )


async def on_contact_created(session: AsyncSession, event: Envelope) -> None:
    card = event.payload()
    assert isinstance(card, ContactCreatedV1)
    await upsert_customer(session, card, event.time)


async def on_contact_updated(session: AsyncSession, event: Envelope) -> None:
    """A new tier or account owner reaches the complaint path with the next complaint."""
    card = event.payload()
    assert isinstance(card, ContactUpdatedV1)
    await upsert_customer(session, card, event.time)


# Lookups on the complaint path, built once (statement construction is costly per call).
_CARD = CustomerProjection.__table__
_BY_ID = select(_CARD).where(_CARD.c.customer_id == bindparam("customer_id"))
_BY_EMAIL = select(_CARD).where(_CARD.c.email == bindparam("email")).limit(1)
_BY_PHONE = select(_CARD).where(_CARD.c.phone == bindparam("phone")).limit(1)


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Row[Any] | None:
    """The customer's card (customer_id, name, email, phone, tier, owner), or None."""
    return (await session.execute(_BY_ID, {"customer_id": customer_id})).first()


async def find_customer(session: AsyncSession, *, email: str | None, phone: str | None) -> Row[Any] | None:
    if email:
        return (await session.execute(_BY_EMAIL, {"email": email})).first()
    if phone:
        return (await session.execute(_BY_PHONE, {"phone": phone})).first()
    return None


CUSTOMER_PROJECTION_HANDLERS = {
    "crm.contact.created.v1": on_contact_created,
    "crm.contact.updated.v1": on_contact_updated,
}
