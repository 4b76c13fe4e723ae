"""The work-list query: scores joined with the customer card (tier, owner, region), keyset paged."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, or_, select

from crm_shared.db import Repository
from crm_shared.projections import CustomerProjection
from scoring.scores.models import CustomerScore
from scoring.worklists.schemas import WorkListFilters

_S = CustomerScore.__table__
_C = CustomerProjection.__table__
_LIFECYCLE = _S.c.inputs["lifecycle"].astext
_CREDIT = _S.c.inputs["credit"].astext
_COLUMNS: list[Any] = [
    _S.c.customer_id,
    _C.c.name,
    _C.c.tier,
    _C.c.owner,
    _C.c.region,
    _LIFECYCLE.label("lifecycle"),
    _CREDIT.label("credit"),
    _S.c.satisfaction,
    _S.c.loyalty,
    _S.c.value,
    _S.c.churn_risk,
    _S.c.health,
    _S.c.band,
    _S.c.updated_at,
]


class WorkListRepository(Repository):
    async def page(
        self,
        filters: WorkListFilters,
        *,
        after: tuple[float, uuid.UUID] | None,
        limit: int,
    ) -> list[Row[Any]]:
        """One page in `filters.sort` order, of the customers within the caller's reach
        (crm_shared.access: owner, owning team or partner on the card); `after` is the last row
        of the page before."""
        key = _S.c[filters.sort.value]
        descending = filters.order == "desc"
        query = select(*_COLUMNS).select_from(_S.outerjoin(_C, _C.c.customer_id == _S.c.customer_id))
        conditions: list[ColumnElement[bool]] = []
        if not self.reach.every_customer:
            conditions.append(self.reach.where(_C.c.owner, _C.c.owner_team, _C.c.partner))
        if filters.band:
            conditions.append(_S.c.band.in_([b.value for b in filters.band]))
        if filters.tier:
            conditions.append(_C.c.tier.in_([t.value for t in filters.tier]))
        if filters.owner:
            conditions.append(_C.c.owner.in_(filters.owner))
        if filters.region:
            conditions.append(_C.c.region.in_(filters.region))
        if filters.lifecycle:
            conditions.append(_LIFECYCLE.in_([stage.value for stage in filters.lifecycle]))
        for name in ("value", "churn_risk", "health"):
            low, high = getattr(filters, f"min_{name}"), getattr(filters, f"max_{name}")
            if low is not None:
                conditions.append(_S.c[name] >= low)
            if high is not None:
                conditions.append(_S.c[name] <= high)
        if after is not None:
            last, last_id = after
            if descending:
                conditions.append(or_(key < last, and_(key == last, _S.c.customer_id < last_id)))
            else:
                conditions.append(or_(key > last, and_(key == last, _S.c.customer_id > last_id)))
        if conditions:
            query = query.where(*conditions)
        order = (key.desc(), _S.c.customer_id.desc()) if descending else (key.asc(), _S.c.customer_id.asc())
        result = await self.session.execute(query.order_by(*order).limit(limit))
        return list(result.all())
