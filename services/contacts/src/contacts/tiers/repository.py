"""All queries of the tier rules: rule versions, and customers in batches for a re-evaluation."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from contacts.customer_records.models import Customer
from contacts.tiers.models import TierRulesRecord
from crm_shared.versioning import VersionedRepository


class TierRulesRepository(VersionedRepository[TierRulesRecord]):
    model = TierRulesRecord
    # The lock also makes rule changes (and their re-tiering) happen one at a time.
    lock_id = 0x7469_6572  # "tier"

    async def customers_ruled(self, *, after: uuid.UUID | None, limit: int) -> list[Customer]:
        """The next batch of live customers without a manual override, locked until commit (id order)."""
        query = select(Customer).where(Customer.tier_override_at.is_(None), Customer.status == "active")
        if after is not None:
            query = query.where(Customer.id > after)
        query = query.order_by(Customer.id).limit(limit).with_for_update(of=Customer.__table__)
        result = await self.session.scalars(query.execution_options(populate_existing=True))
        return list(result.all())
