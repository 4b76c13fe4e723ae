"""The query of the yearly check: key accounts with no leadership visit open or made in the last year."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, exists, or_, select

from crm_shared.db import Repository
from crm_shared.projections import CustomerProjection
from notifications.tasks.models import Task


class KeyAccountRepository(Repository):
    async def without_visit(self, since: datetime, limit: int) -> list[tuple[uuid.UUID, str | None]]:
        """(customer id, owner) of key accounts with no `leadership_visit` task open, or made since `since`."""
        planned = exists().where(
            Task.customer_id == CustomerProjection.customer_id,
            Task.type == "leadership_visit",
            or_(Task.status.in_(("open", "claimed")), Task.created_at >= since),
        )
        query = (
            select(CustomerProjection.customer_id, CustomerProjection.owner)
            .where(and_(CustomerProjection.tier == "key", CustomerProjection.erased_at.is_(None), ~planned))
            .order_by(CustomerProjection.customer_id)
            .limit(limit)
        )
        return [(row.customer_id, row.owner) for row in (await self.session.execute(query)).all()]
