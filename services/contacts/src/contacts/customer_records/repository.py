"""All queries on customers."""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the builtin in its annotations
import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import Result, delete, func, literal, or_, select, tuple_, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from contacts.customer_records.filters import CustomerFilters
from contacts.customer_records.models import Customer, CustomerExternalId, SecondaryIdentifier
from crm_shared.db import Repository
from crm_shared.http.problems import Conflict
from crm_shared.normalize import same_national_number

_WITH_EXTERNAL_IDS = selectinload(Customer.external_ids)


# Merged records redirect and erased ones are tombstones: neither is found, listed or matched.
_ACTIVE = Customer.status == "active"


def _owners_of(pairs: list[tuple[str, str]]):
    return select(CustomerExternalId.customer_id).where(
        tuple_(CustomerExternalId.system, CustomerExternalId.id).in_(pairs)
    )


def _holders_of(kind: str, value: str) -> list:
    """Who answers to an email or phone: as their own, or kept from a record merged into them.

    Branches of a UNION, each an index lookup. Joined to `customers` as `id IN (...) OR ...`
    instead, PostgreSQL scanned the whole table on every create (docs/benchmarks-imports.md).
    """
    column = Customer.email if kind == "email" else Customer.phone
    return [
        select(Customer.id).where(column == value),
        select(SecondaryIdentifier.customer_id).where(
            SecondaryIdentifier.kind == kind, SecondaryIdentifier.value == value
        ),
    ]


def _trigram_score(name: str):
    """Typos and word order cost little: the best of whole-name and best-matching-words similarity."""
    return func.greatest(func.similarity(Customer.name, name), func.word_similarity(name, Customer.name))


class CustomerRepository(Repository):
    """Reads answer only what the caller's reach covers (`self.reach`, crm_shared.access): a record
    outside it is never listed, found or changed. Duplicate checks (`find_by_identifiers`) stay
    global: an identifier belongs to one customer whoever can see it."""

    def _in_reach(self):
        return self.reach.where(Customer.owner, Customer.owner_team, Customer.partner)

    async def get(self, customer_id: uuid.UUID) -> Customer | None:
        if self.reach.every_customer:
            return await self.session.get(Customer, customer_id, options=[_WITH_EXTERNAL_IDS])
        query = select(Customer).options(_WITH_EXTERNAL_IDS).where(Customer.id == customer_id, self._in_reach())
        return (await self.session.scalars(query)).first()

    async def get_for_update(self, customer_id: uuid.UUID) -> Customer | None:
        """The record, locked until commit: concurrent updates of one customer apply one at a time."""
        if self.reach.every_customer:
            return await self.session.get(
                Customer, customer_id, options=[_WITH_EXTERNAL_IDS], with_for_update=True, populate_existing=True
            )
        query = (
            select(Customer)
            .options(_WITH_EXTERNAL_IDS)
            .where(Customer.id == customer_id, self._in_reach())
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).first()

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:  # a concurrent write took the identifier
            raise Conflict("A customer with this email or phone already exists.") from exc

    async def people_named(self, organisation_id: uuid.UUID, name: str) -> list[Customer]:
        """People of one organisation whose name matches, ignoring case and spacing."""
        normalised = " ".join(name.split()).lower()
        query = select(Customer).where(
            Customer.organisation_id == organisation_id,
            _ACTIVE,
            func.lower(func.regexp_replace(Customer.name, r"\s+", " ", "g")) == normalised,
        )
        return list((await self.session.scalars(query)).all())

    async def find_by_identifiers(
        self, *, email: str | None, phone: str | None, external_ids: Sequence[tuple[str, str]] = ()
    ) -> list[Customer]:
        ids = await self._holding(email=email, phone=phone, external_ids=external_ids)
        if not ids:
            return []
        query = select(Customer).options(_WITH_EXTERNAL_IDS).where(Customer.id.in_(ids), _ACTIVE).order_by(Customer.id)
        return list((await self.session.scalars(query)).all())

    async def _holding(
        self, *, email: str | None, phone: str | None, external_ids: Sequence[tuple[str, str]] = ()
    ) -> list[uuid.UUID]:
        """Ids of the customers holding any of the identifiers: index lookups only, one round trip."""
        branches = []
        if email:
            branches += _holders_of("email", email)
        if phone:
            branches += _holders_of("phone", phone)
        if external_ids:
            branches.append(_owners_of(list(external_ids)))
        if not branches:
            return []
        return list(dict.fromkeys((await self.session.scalars(union_all(*branches))).all()))

    async def holders_of_phone(self, phone: str) -> list[uuid.UUID]:
        """Active customers answering to an E.164 number, their own or one kept from a merge."""
        holders = union_all(*_holders_of("phone", phone)).subquery()
        query = select(Customer.id).where(Customer.id.in_(select(holders.c[0])), _ACTIVE)
        return list((await self.session.scalars(query)).all())

    async def holders_of_national_number(self, digits: str) -> list[uuid.UUID]:
        """Customers whose phone (or one kept from a merged record) is `digits` without its country.

        A suffix match scans the table; it serves only callers who leave out the country code,
        and the exact E.164 lookup stays an index hit for everyone else.
        """
        pattern = "%" + digits.lstrip("0")
        primary = select(Customer.id, Customer.phone).where(Customer.phone.like(pattern))
        secondary = select(SecondaryIdentifier.customer_id, SecondaryIdentifier.value).where(
            SecondaryIdentifier.kind == "phone", SecondaryIdentifier.value.like(pattern)
        )
        rows: Result[uuid.UUID, str] = await self.session.execute(union_all(primary, secondary))
        return list(dict.fromkeys(cid for cid, phone in rows if same_national_number(phone, digits)))

    async def add(self, customer: Customer) -> Customer:
        try:
            return await self.insert(customer)
        except IntegrityError as exc:  # a concurrent create won the race for the identifier
            raise Conflict("A customer with this email or phone already exists.") from exc

    async def list(
        self,
        filters: CustomerFilters,
        *,
        external_id: tuple[str, str] | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
        among: list[uuid.UUID] | None = None,
    ) -> list[Customer]:
        """Oldest first; identifiers in `filters` are already normalised."""
        query = select(Customer).options(_WITH_EXTERNAL_IDS).where(_ACTIVE, self._in_reach())
        if among is not None:
            query = query.where(Customer.id.in_(among))
        for kind, value in (("email", filters.email), ("phone", filters.phone)):
            if value is not None:  # a caller lookup: resolve the few ids first, by index
                holders = await self._holding(
                    email=value if kind == "email" else None, phone=value if kind == "phone" else None
                )
                query = query.where(Customer.id.in_(holders))
        equal: dict[Any, object] = {
            Customer.tier: filters.tier,
            Customer.owner: filters.owner,
            Customer.owner_team: filters.owner_team,
            Customer.partner: filters.partner,
            Customer.kind: filters.kind,
            Customer.organisation_id: filters.organisation_id,
            Customer.lifecycle_stage: filters.lifecycle_stage,
            Customer.credit_standing: filters.credit_standing,
            Customer.region: filters.region,
        }
        for column, wanted in equal.items():
            if wanted is not None:
                query = query.where(column == (wanted.value if isinstance(wanted, Enum) else wanted))
        if filters.tag:
            query = query.where(Customer.tags.contains([filters.tag]))
        if external_id:
            query = query.where(Customer.id.in_(_owners_of([external_id])))
        if filters.name:
            escaped = filters.name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Customer.name.ilike(f"%{escaped}%", escape="\\"))
        if after:
            query = query.where(tuple_(Customer.created_at, Customer.id) > tuple_(*after))
        query = query.order_by(Customer.created_at, Customer.id).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def similar_people(
        self, organisation_id: uuid.UUID, name: str, threshold: float
    ) -> builtins.list[tuple[Customer, float]]:
        """People of one organisation whose name is close to `name` (pg_trgm similarity), best first."""
        score = func.similarity(Customer.name, name)
        query = (
            select(Customer, score)
            .options(_WITH_EXTERNAL_IDS)
            .where(Customer.organisation_id == organisation_id, Customer.kind == "person", _ACTIVE, score >= threshold)
            .order_by(score.desc(), Customer.id)
            .limit(10)
        )
        return [(c, float(s)) for c, s in (await self.session.execute(query)).all()]

    async def similar_organisations(self, name: str, threshold: float) -> builtins.list[tuple[Customer, float]]:
        """Organisations whose name is close to `name`; `%` lets the trigram index narrow them first."""
        score = func.similarity(Customer.name, name)
        query = (
            select(Customer, score)
            .options(_WITH_EXTERNAL_IDS)
            .where(Customer.name.op("%")(name), Customer.kind == "organisation", _ACTIVE, score >= threshold)
            .order_by(score.desc(), Customer.id)
            .limit(10)
        )
        return [(c, float(s)) for c, s in (await self.session.execute(query)).all()]

    async def search(
        self, text: str, *, kind: str | None, organisation_id: uuid.UUID | None, limit: int
    ) -> builtins.list[tuple[Customer, float]]:
        """Active customers whose name resembles `text`, best first (trigram index on name)."""
        score = _trigram_score(text)
        query = (
            select(Customer, score)
            .options(_WITH_EXTERNAL_IDS)
            .where(or_(Customer.name.op("%")(text), literal(text).op("<%")(Customer.name)), _ACTIVE, self._in_reach())
        )
        if kind is not None:
            query = query.where(Customer.kind == kind)
        if organisation_id is not None:
            query = query.where(Customer.organisation_id == organisation_id)
        query = query.order_by(score.desc(), Customer.created_at, Customer.id).limit(limit)
        return [(c, round(float(s), 4)) for c, s in (await self.session.execute(query)).all()]

    async def lock(self, customer_ids: builtins.list[uuid.UUID]) -> dict[uuid.UUID, Customer]:
        """Several records locked in id order, so two merges of the same pair never deadlock."""
        query = (
            select(Customer)
            .options(_WITH_EXTERNAL_IDS)
            .where(Customer.id.in_(customer_ids), self._in_reach())
            .order_by(Customer.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {c.id: c for c in (await self.session.scalars(query)).all()}

    async def people_of(self, organisation_id: uuid.UUID) -> builtins.list[Customer]:
        """Every active person of an organisation, locked (they move with a merge)."""
        query = (
            select(Customer)
            .where(Customer.organisation_id == organisation_id, Customer.kind == "person", _ACTIVE)
            .order_by(Customer.id)
            .with_for_update()
        )
        return list((await self.session.scalars(query)).all())

    async def aliases_of(self, customer_id: uuid.UUID) -> builtins.list[Customer]:
        """Records merged into this one (merges re-point older aliases, so one hop finds them all)."""
        query = select(Customer).options(_WITH_EXTERNAL_IDS).where(Customer.merged_into == customer_id)
        return list((await self.session.scalars(query.order_by(Customer.id).with_for_update())).all())

    async def repoint_aliases(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        """Records merged into `from_id` now redirect straight to `to_id` (no redirect chains)."""
        await self.session.execute(update(Customer).where(Customer.merged_into == from_id).values(merged_into=to_id))

    async def final_survivor(self, customer_id: uuid.UUID) -> Customer | None:
        """Where a merged record's redirect leads, following older chains if any (bounded)."""
        current = await self.get(customer_id)
        for _ in range(20):
            if current is None or current.status != "merged" or current.merged_into is None:
                return current
            current = await self.get(current.merged_into)
        return current

    async def secondary_identifiers(self, customer_ids: builtins.list[uuid.UUID]) -> builtins.list[SecondaryIdentifier]:
        query = select(SecondaryIdentifier).where(SecondaryIdentifier.customer_id.in_(customer_ids))
        return list(
            (await self.session.scalars(query.order_by(SecondaryIdentifier.kind, SecondaryIdentifier.value))).all()
        )

    async def add_secondary_identifier(
        self, customer_id: uuid.UUID, kind: str, value: str, merged_from: uuid.UUID | None
    ) -> bool:
        """False if the customer already answers to it."""
        existing = await self.session.get(SecondaryIdentifier, (kind, value))
        if existing is not None:
            if existing.customer_id != customer_id:
                raise Conflict(
                    f"Another customer already answers to this {kind}.", candidates=[str(existing.customer_id)]
                )
            return False
        self.session.add(SecondaryIdentifier(kind=kind, value=value, customer_id=customer_id, merged_from=merged_from))
        return True

    async def move_identifiers(self, source: Customer, target: Customer) -> None:
        """External and secondary ids change owner in place (delete + insert would clash on the keys)."""
        await self.session.flush()
        await self.session.execute(
            update(CustomerExternalId).where(CustomerExternalId.customer_id == source.id).values(customer_id=target.id)
        )
        await self.session.execute(
            update(SecondaryIdentifier)
            .where(SecondaryIdentifier.customer_id == source.id)
            .values(customer_id=target.id)
        )
        await self.session.refresh(source, ["external_ids"])
        await self.session.refresh(target, ["external_ids"])

    async def delete_secondary_identifiers(self, customer_ids: builtins.list[uuid.UUID]) -> None:
        await self.session.execute(delete(SecondaryIdentifier).where(SecondaryIdentifier.customer_id.in_(customer_ids)))
