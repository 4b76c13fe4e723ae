"""All queries of the tier rules: rule versions, and customers in batches for a re-evaluation."""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the builtin in its annotations
import uuid

from sqlalchemy import func, select

from contacts.customer_records.models import Customer
from contacts.tiers.models import TierRulesRecord
from crm_shared.db import Repository

# Any constant unique to this lock: rule changes (and their re-tiering) happen one at a time.
_RULES_LOCK = 0x7469_6572  # "tier"


class TierRulesRepository(Repository):
    async def current(self) -> TierRulesRecord | None:
        query = select(TierRulesRecord).order_by(TierRulesRecord.version.desc()).limit(1)
        return (await self.session.scalars(query)).first()

    async def lock(self) -> None:
        """Held until commit, so two admins changing the rules get versions n+1 and n+2."""
        await self.session.execute(select(func.pg_advisory_xact_lock(_RULES_LOCK)))

    async def list(self, *, limit: int, below: int | None) -> list[TierRulesRecord]:
        """Newest first."""
        query = select(TierRulesRecord)
        if below is not None:
            query = query.where(TierRulesRecord.version < below)
        query = query.order_by(TierRulesRecord.version.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def customers_ruled(self, *, after: uuid.UUID | None, limit: int) -> builtins.list[Customer]:
        """The next batch of live customers without a manual override, locked until commit (id order)."""
        query = select(Customer).where(Customer.tier_override_at.is_(None), Customer.status == "active")
        if after is not None:
            query = query.where(Customer.id > after)
        query = query.order_by(Customer.id).limit(limit).with_for_update(of=Customer.__table__)
        result = await self.session.scalars(query.execution_options(populate_existing=True))
        return list(result.all())
