"""All queries of the lifecycle rules: rule versions, the facts, customers in batches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select

from contacts.activity_records.models import Activity
from contacts.customer_records.models import Customer
from contacts.lifecycle.models import LifecycleRulesRecord
from crm_shared.versioning import VersionedRepository


class LifecycleRulesRepository(VersionedRepository[LifecycleRulesRecord]):
    model = LifecycleRulesRecord
    lock_id = 0x6C69_6665  # "life"

    async def order_stats(self, customer_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, datetime | None]]:
        """(number of orders, last order time) per customer that has orders."""
        query = (
            select(Activity.customer_id, func.count(), func.max(Activity.occurred_at))
            .where(Activity.customer_id.in_(customer_ids), Activity.kind == "order")
            .group_by(Activity.customer_id)
        )
        return {cid: (count, last) for cid, count, last in (await self.session.execute(query)).all()}

    async def customers_ruled(
        self, *, after: uuid.UUID | None, limit: int, only: Sequence[uuid.UUID] | None = None
    ) -> list[Customer]:
        """The next batch of live customers whose stage no person holds (of `only`, if given),
        locked until commit (id order)."""
        query = select(Customer).where(Customer.lifecycle_override_at.is_(None), Customer.status == "active")
        if only is not None:
            query = query.where(Customer.id.in_(only))
        if after is not None:
            query = query.where(Customer.id > after)
        query = query.order_by(Customer.id).limit(limit).with_for_update(of=Customer.__table__)
        result = await self.session.scalars(query.execution_options(populate_existing=True))
        return list(result.all())
