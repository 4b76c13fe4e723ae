"""The local copy of the customer card that every service consuming the contact events keeps.

Fed by `crm.contact.*` events, so the complaint path never calls the customer master's api: it
already knows the customer's tier and account owner. One definition for all of them.

Merges and erasures change more than the card: a merged id becomes an alias of the survivor
(`customer_aliases`), so a late event or a cached old id still reaches the right customer,
and an erased card keeps only a tombstone (`erased_at`), so no late event brings the personal
data back. Each service composes `merge_customer` / `erase_customer` with the re-pointing or
redaction of its own tables, in the consumer's one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from typing import cast as cast_to

from sqlalchemy import (
    DateTime,
    Row,
    String,
    bindparam,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from crm_shared.access import Reach
from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import (
    ContactCreatedV1,
    ContactErasedV1,
    ContactMergedV1,
    ContactUpdatedV1,
    _CustomerCard,
)
from crm_shared.contracts.vocabulary import Tier
from crm_shared.db import Base
from crm_shared.erasure import purge_platform_records

ERASED_NAME = "[erased]"
# Tier of a tombstone for a customer this service never saw: the column needs one, and the
# lowest tier promises nothing.
TOMBSTONE_TIER = Tier.bronze.value


class CustomerProjection(Base):
    __tablename__ = "customer_projection"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    tier: Mapped[str] = mapped_column(String(20), nullable=False)
    owner: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    # Record-level access (crm_shared.access): who besides the owner may see the customer's records.
    owner_team: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    partner: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    industry: Mapped[str | None] = mapped_column(String(100), nullable=True)
    consent: Mapped[dict[str, bool]] = mapped_column(JSONB, nullable=False, server_default="{}")
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Time of the event the row reflects: an older event never overwrites a newer one.
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )
    # Set once the customer is erased: the row is a tombstone no card may fill again.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CustomerAlias(Base):
    """An id merged into another customer. Chains are kept flat (A->B then B->C gives A->C),
    so following an alias is always one hop. The merged record's email and phone stay here, so
    a caller still identified by them finds the survivor."""

    __tablename__ = "customer_aliases"

    merged_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    survivor_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


_CARD = CustomerProjection.__table__
_ALIASES = CustomerAlias.__table__


async def upsert_customer(session: AsyncSession, card: _CustomerCard, as_of: datetime) -> None:
    """Store the card unless a newer one is stored, the customer was erased, or the id is now
    an alias (a late or replayed event must not revive a merged or erased record)."""
    values = {
        "customer_id": card.customer_id,
        "name": card.name,
        "email": card.email,
        "phone": card.phone,
        "tier": card.tier.value,
        "owner": card.owner,
        "owner_team": card.owner_team,
        "partner": card.partner,
        "region": card.region,
        "industry": card.industry,
        "consent": dict(card.consent),
        "language": card.language,
        "timezone": card.timezone,
        "as_of": as_of,
    }
    columns = (
        cast(literal(value, _CARD.c[name].type), _CARD.c[name].type).label(name) for name, value in values.items()
    )
    source = select(*columns).where(~exists().where(_ALIASES.c.merged_id == card.customer_id))
    statement = insert(CustomerProjection).from_select(list(values), source)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[CustomerProjection.customer_id],
            set_={k: statement.excluded[k] for k in values if k != "customer_id"},
            where=(CustomerProjection.as_of <= statement.excluded.as_of) & CustomerProjection.erased_at.is_(None),
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
_BY_ID = select(_CARD).where(_CARD.c.customer_id == bindparam("customer_id"))
_BY_EMAIL = select(_CARD).where(_CARD.c.email == bindparam("email")).limit(1)
_BY_PHONE = select(_CARD).where(_CARD.c.phone == bindparam("phone")).limit(1)
_SURVIVOR_CARD = _CARD.join(_ALIASES, _ALIASES.c.survivor_id == _CARD.c.customer_id)
_BY_ALIAS_ID = select(_CARD).select_from(_SURVIVOR_CARD).where(_ALIASES.c.merged_id == bindparam("customer_id"))
_BY_ALIAS_EMAIL = select(_CARD).select_from(_SURVIVOR_CARD).where(_ALIASES.c.email == bindparam("email")).limit(1)
_BY_ALIAS_PHONE = select(_CARD).select_from(_SURVIVOR_CARD).where(_ALIASES.c.phone == bindparam("phone")).limit(1)
_SURVIVOR_ID = select(_ALIASES.c.survivor_id).where(_ALIASES.c.merged_id == bindparam("customer_id"))


def in_reach(reach: Reach, customer_id: Any) -> ColumnElement[bool]:
    """SQL for "this customer-bound record is within the caller's reach": its customer's card here
    names the caller as owner, one of their teams, or their partner (crm_shared.access).

    A record of a customer this service has no card for yet is outside a restricted reach: it
    shows up once the contact event arrives.
    """
    if reach.every_customer:
        return true()
    reached = select(_CARD.c.customer_id).where(reach.where(_CARD.c.owner, _CARD.c.owner_team, _CARD.c.partner))
    return cast_to(ColumnElement[bool], customer_id.in_(reached))


def reaches(reach: Reach, card: Row[Any]) -> bool:
    """Whether a customer card (`get_customer`) is within the caller's reach (Python side)."""
    return reach.covers(card.owner, card.owner_team, card.partner)


def current_id_of(customer_id: Any) -> Any:
    """SQL for "the survivor's id if this id was merged, else the id itself": lets a hot-path
    statement follow an alias without an extra round trip."""
    return func.coalesce(
        select(_ALIASES.c.survivor_id).where(_ALIASES.c.merged_id == customer_id).scalar_subquery(), customer_id
    )


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Row[Any] | None:
    """The customer's card (customer_id, name, email, phone, tier, owner, erased_at), or None.

    A merged id answers with the survivor's card; that costs a second query only on a miss, so
    the usual exact hit stays one query.
    """
    params = {"customer_id": customer_id}
    return (await session.execute(_BY_ID, params)).first() or (await session.execute(_BY_ALIAS_ID, params)).first()


async def find_customer(session: AsyncSession, *, email: str | None, phone: str | None) -> Row[Any] | None:
    """The card with this email (or else phone); a merged record's identifiers find the survivor."""
    if email:
        params, direct, via_alias = {"email": email}, _BY_EMAIL, _BY_ALIAS_EMAIL
    elif phone:
        params, direct, via_alias = {"phone": phone}, _BY_PHONE, _BY_ALIAS_PHONE
    else:
        return None
    return (await session.execute(direct, params)).first() or (await session.execute(via_alias, params)).first()


async def survivor_id(session: AsyncSession, customer_id: uuid.UUID) -> uuid.UUID:
    """The id a customer's data lives under now: the survivor's if it was merged, else its own."""
    found = (await session.execute(_SURVIVOR_ID, {"customer_id": customer_id})).scalar()
    return found or customer_id


async def merge_customer(session: AsyncSession, merge: ContactMergedV1, as_of: datetime) -> uuid.UUID:
    """Apply a merge to the projection; returns the id the merged customer's data moves to.

    That is normally `survivor_id`, unless the survivor was itself merged away and that event
    was handled first (merge events are keyed by the merged id, so two merges may arrive in
    either order).
    """
    target = await survivor_id(session, merge.survivor_id)
    if target == merge.survivor_id:
        await upsert_customer(session, merge.survivor, as_of)
    merged = (await session.execute(_BY_ID, {"customer_id": merge.merged_id})).first()
    # Whatever pointed at the merged id points at the survivor now: chains stay one hop.
    await session.execute(update(_ALIASES).where(_ALIASES.c.survivor_id == merge.merged_id).values(survivor_id=target))
    alias = insert(_ALIASES).values(
        merged_id=merge.merged_id,
        survivor_id=target,
        # An erased record leaves nothing to be identified by.
        email=merged.email if merged is not None and merged.erased_at is None else None,
        phone=merged.phone if merged is not None and merged.erased_at is None else None,
        merged_at=merge.merged_at,
    )
    await session.execute(alias.on_conflict_do_nothing(index_elements=[_ALIASES.c.merged_id]))
    await session.execute(delete(_CARD).where(_CARD.c.customer_id == merge.merged_id))
    return target


@dataclass(frozen=True)
class ErasedCustomer:
    """What an erasure covered: every id the customer had, and the identifiers (name, email,
    phone) this service knew, so it can redact them where they were copied into its own text."""

    ids: list[uuid.UUID]
    identifiers: list[str] = field(default_factory=list)


async def erase_customer(session: AsyncSession, erasure: ContactErasedV1, as_of: datetime) -> ErasedCustomer:
    """Reduce the customer's card and aliases to tombstones and purge the platform tables.

    The aliases listed in the event are recorded too: the merge that made them may not have
    been handled yet (it travels under another key), and when it comes it must not bring the
    merged record's card back.
    """
    customer_id = erasure.customer_id
    ids = [customer_id, *(a for a in erasure.aliases if a != customer_id)]
    known = (
        await session.execute(
            select(_CARD.c.name, _CARD.c.email, _CARD.c.phone).where(
                _CARD.c.customer_id.in_(ids), _CARD.c.erased_at.is_(None)
            )
        )
    ).all()
    known_aliases = (
        await session.execute(
            select(_ALIASES.c.email, _ALIASES.c.phone).where(
                or_(_ALIASES.c.survivor_id == customer_id, _ALIASES.c.merged_id.in_(ids))
            )
        )
    ).all()
    identifiers = sorted({value for row in [*known, *known_aliases] for value in row if value})

    for alias in ids[1:]:
        await session.execute(
            insert(_ALIASES)
            .values(merged_id=alias, survivor_id=customer_id, merged_at=erasure.erased_at)
            .on_conflict_do_nothing(index_elements=[_ALIASES.c.merged_id])
        )
    await session.execute(
        update(_ALIASES)
        .where(or_(_ALIASES.c.survivor_id == customer_id, _ALIASES.c.merged_id.in_(ids)))
        .values(email=None, phone=None)
    )
    await session.execute(delete(_CARD).where(_CARD.c.customer_id.in_(ids[1:])))
    tombstone = insert(_CARD).values(
        customer_id=customer_id,
        name=ERASED_NAME,
        email=None,
        phone=None,
        tier=TOMBSTONE_TIER,
        owner=None,
        as_of=as_of,
        erased_at=erasure.erased_at,
    )
    # The owner is staff, not the customer's data, and tier is not personal: both stay.
    await session.execute(
        tombstone.on_conflict_do_update(
            index_elements=[_CARD.c.customer_id],
            set_={
                "name": ERASED_NAME,
                "email": None,
                "phone": None,
                "consent": {},  # nobody left to contact
                "language": None,
                "timezone": None,
                "erased_at": tombstone.excluded.erased_at,
            },
            where=_CARD.c.erased_at.is_(None),
        )
    )
    await purge_platform_records(session, ids)
    return ErasedCustomer(ids=ids, identifiers=identifiers)


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The projection's part of a merge, for a service with nothing else to re-point."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    await merge_customer(session, merge, event.time)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    """The projection's and platform tables' part of an erasure."""
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    await erase_customer(session, erasure, event.time)


CUSTOMER_PROJECTION_HANDLERS = {
    "crm.contact.created.v1": on_contact_created,
    "crm.contact.updated.v1": on_contact_updated,
}
"""Card events every service handles alike. Merges and erasures also touch each service's own
tables, so each service registers its own handlers for them, built on `merge_customer` and
`erase_customer` (or `on_contact_merged` / `on_contact_erased` when it has nothing of its own)."""
