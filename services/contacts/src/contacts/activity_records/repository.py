"""All queries on activities, including the aggregates the tier rules read."""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the builtin in its annotations
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, and_, delete, func, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from contacts.activity_records.models import Activity
from crm_shared.db import Repository
from crm_shared.http.problems import Conflict


class ActivityRepository(Repository):
    async def add(self, activity: Activity) -> Activity:
        try:
            return await self.insert(activity)
        except IntegrityError as exc:  # a concurrent write recorded the same external_ref
            raise Conflict("An activity with this external_ref was recorded meanwhile; send it again.") from exc

    async def get(self, activity_id: uuid.UUID) -> Activity | None:
        return await self.session.get(Activity, activity_id)

    async def by_external_ref(self, customer_id: uuid.UUID, external_ref: str) -> Activity | None:
        query = select(Activity).where(Activity.customer_id == customer_id, Activity.external_ref == external_ref)
        return (await self.session.scalars(query)).one_or_none()

    async def list(
        self,
        customer_id: uuid.UUID,
        *,
        kind: str | None,
        since: datetime | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Activity]:
        """Newest first, on the (customer_id, occurred_at desc, id desc) index."""
        query = select(Activity).where(Activity.customer_id == customer_id)
        if kind is not None:
            query = query.where(Activity.kind == kind)
        if since is not None:
            query = query.where(Activity.occurred_at >= since)
        if before is not None:
            query = query.where(tuple_(Activity.occurred_at, Activity.id) < tuple_(*before))
        query = query.order_by(Activity.occurred_at.desc(), Activity.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def move(self, from_customer: uuid.UUID, to_customer: uuid.UUID) -> int:
        """Re-points the history of `from_customer` to `to_customer`; returns how many rows moved.

        The same source record (same external_ref) may have been recorded on both duplicates: the
        survivor's copy stays, the other is dropped and renewals pointing at it follow the survivor's.
        """
        theirs = aliased(Activity)
        twins = (
            select(Activity.id.label("dropped"), theirs.id.label("kept"))
            .join(theirs, and_(theirs.customer_id == to_customer, theirs.external_ref == Activity.external_ref))
            .where(Activity.customer_id == from_customer, Activity.external_ref.is_not(None))
        )
        pairs = (await self.session.execute(twins)).all()
        for dropped, kept in pairs:
            await self.session.execute(update(Activity).where(Activity.renewal_of == dropped).values(renewal_of=kept))
        if pairs:
            await self.session.execute(delete(Activity).where(Activity.id.in_([p.dropped for p in pairs])))
        moved = await self.session.execute(
            update(Activity)
            .where(Activity.customer_id == from_customer)
            .values(customer_id=to_customer)
            .execution_options(synchronize_session=False)
        )
        return cast(CursorResult[Any], moved).rowcount  # an UPDATE's result is a CursorResult

    async def order_volumes(
        self, customer_ids: Sequence[uuid.UUID], *, since: datetime, until: datetime
    ) -> dict[uuid.UUID, Decimal]:
        """Sum of order amounts per customer in [since, until]."""
        query = (
            select(Activity.customer_id, func.sum(Activity.amount))
            .where(
                Activity.customer_id.in_(customer_ids),
                Activity.kind == "order",
                Activity.occurred_at >= since,
                Activity.occurred_at <= until,
            )
            .group_by(Activity.customer_id)
        )
        return {customer_id: total or Decimal(0) for customer_id, total in (await self.session.execute(query)).all()}

    async def contract_terms(
        self, customer_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, builtins.list[tuple[date, date | None]]]:
        """Every contract's (starts_on, ends_on) per customer: few rows per customer, all needed for continuity."""
        query = select(Activity.customer_id, Activity.starts_on, Activity.ends_on).where(
            Activity.customer_id.in_(customer_ids), Activity.kind == "contract"
        )
        terms: dict[uuid.UUID, list[tuple[date, date | None]]] = {}
        for customer_id, starts_on, ends_on in (await self.session.execute(query)).all():
            # A contract always has its start (ContractDetails requires it); only its end may be open.
            terms.setdefault(customer_id, []).append((cast(date, starts_on), ends_on))
        return terms

    async def forget_free_text(self, customer_ids: Sequence[uuid.UUID]) -> None:
        """Drops what was written about the customer in words (a visit's purpose and findings); amounts,
        dates, products and source references are business facts and stay."""
        await self.session.execute(
            update(Activity)
            .where(Activity.customer_id.in_(customer_ids), Activity.kind == "visit")
            .values(details=Activity.details.op("-")("purpose").op("-")("findings"))
        )
