"""All queries on customers."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from contacts.customers.models import Customer, CustomerExternalId
from contacts.customers.schemas import CustomerFilters
from crm_shared.http.problems import Conflict

_WITH_EXTERNAL_IDS = selectinload(Customer.external_ids)


def _owners_of(pairs: list[tuple[str, str]]):
    return select(CustomerExternalId.customer_id).where(
        tuple_(CustomerExternalId.system, CustomerExternalId.id).in_(pairs)
    )


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, customer_id: uuid.UUID) -> Customer | None:
        return await self.session.get(Customer, customer_id, options=[_WITH_EXTERNAL_IDS])

    async def get_for_update(self, customer_id: uuid.UUID) -> Customer | None:
        """The record, locked until commit: concurrent updates of one customer apply one at a time."""
        return await self.session.get(
            Customer, customer_id, options=[_WITH_EXTERNAL_IDS], with_for_update=True, populate_existing=True
        )

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
            func.lower(func.regexp_replace(Customer.name, r"\s+", " ", "g")) == normalised,
        )
        return list((await self.session.scalars(query)).all())

    async def find_by_identifiers(
        self, *, email: str | None, phone: str | None, external_ids: list[tuple[str, str]] = ()
    ) -> list[Customer]:
        clauses = []
        if email:
            clauses.append(Customer.email == email)
        if phone:
            clauses.append(Customer.phone == phone)
        if external_ids:
            clauses.append(Customer.id.in_(_owners_of(list(external_ids))))
        if not clauses:
            return []
        return list((await self.session.scalars(select(Customer).where(or_(*clauses)))).all())

    async def add(self, customer: Customer) -> Customer:
        self.session.add(customer)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # a concurrent create won the race for the identifier
            raise Conflict("A customer with this email or phone already exists.") from exc
        return customer

    async def list(
        self,
        filters: CustomerFilters,
        *,
        external_id: tuple[str, str] | None,
        limit: int,
        after: tuple[datetime, uuid.UUID] | None,
    ) -> list[Customer]:
        """Oldest first; identifiers in `filters` are already normalised."""
        query = select(Customer).options(_WITH_EXTERNAL_IDS)
        equal = {
            Customer.tier: filters.tier,
            Customer.owner: filters.owner,
            Customer.email: filters.email,
            Customer.phone: filters.phone,
            Customer.kind: filters.kind,
            Customer.organisation_id: filters.organisation_id,
            Customer.lifecycle_stage: filters.lifecycle_stage,
            Customer.credit_standing: filters.credit_standing,
            Customer.region: filters.region,
        }
        for column, value in equal.items():
            if value is not None:
                query = query.where(column == (value.value if isinstance(value, Enum) else value))
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
