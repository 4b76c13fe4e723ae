"""All queries on scores.

The per-event statements (lock, save, history) are built once at import: on this hot path the
cost of constructing SQLAlchemy statements per call was larger than the database round trips.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.projections import current_id_of, survivor_id
from scoring.scores.models import CustomerScore, ScoreHistory

_SCORES = CustomerScore.__table__
_HISTORY = ScoreHistory.__table__
_LOCK = select(_SCORES).where(_SCORES.c.customer_id == bindparam("customer_id")).with_for_update()
_LOCK_CURRENT = (
    select(_SCORES).where(_SCORES.c.customer_id == current_id_of(bindparam("customer_id"))).with_for_update()
)
_LOCK_BOTH = (
    select(_SCORES)
    .where(_SCORES.c.customer_id.in_(bindparam("customer_ids", expanding=True)))
    .order_by(_SCORES.c.customer_id)
    .with_for_update()
)
_upsert = insert(_SCORES).values({c.name: bindparam(c.name) for c in _SCORES.columns})
_SAVE = _upsert.on_conflict_do_update(
    index_elements=[_SCORES.c.customer_id],
    set_={c.name: _upsert.excluded[c.name] for c in _SCORES.columns if c.name != "customer_id"},
)
_ADD_HISTORY = insert(_HISTORY).values({c.name: bindparam(c.name) for c in _HISTORY.columns})


class ScoreRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, customer_id: uuid.UUID) -> CustomerScore | None:
        return await self.session.get(CustomerScore, customer_id)

    async def lock(self, customer_id: uuid.UUID) -> Row[Any] | None:
        """The customer's row, locked until commit: updates of one customer apply one at a time."""
        return (await self.session.execute(_LOCK, {"customer_id": customer_id})).first()

    async def lock_current(self, customer_id: uuid.UUID) -> tuple[uuid.UUID, Row[Any] | None]:
        """Like `lock`, but for the id the customer lives under now (a merged id's survivor).

        One query when the row exists; on a miss (a customer not scored yet, or a merge that
        committed while this waited for the lock) the alias is read again and followed.
        """
        row = (await self.session.execute(_LOCK_CURRENT, {"customer_id": customer_id})).first()
        if row is not None:
            return row.customer_id, row
        current = await survivor_id(self.session, customer_id)
        return current, (await self.lock(current) if current != customer_id else None)

    async def lock_pair(self, first: uuid.UUID, second: uuid.UUID) -> tuple[Row[Any] | None, Row[Any] | None]:
        """Both rows, locked in id order so two merges never wait on each other in a cycle."""
        rows = {r.customer_id: r for r in await self.session.execute(_LOCK_BOTH, {"customer_ids": [first, second]})}
        return rows.get(first), rows.get(second)

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        """The merged record's current row goes (its inputs were combined); its history stays, re-pointed."""
        await self.session.execute(delete(CustomerScore).where(CustomerScore.customer_id == from_id))
        await self.session.execute(
            update(ScoreHistory).where(ScoreHistory.customer_id == from_id).values(customer_id=to_id)
        )

    async def save(self, values: dict[str, Any]) -> None:
        await self.session.execute(_SAVE, values)

    async def add_history(self, values: dict[str, Any]) -> None:
        await self.session.execute(_ADD_HISTORY, values)

    async def history(
        self, customer_id: uuid.UUID, *, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[ScoreHistory]:
        query = select(ScoreHistory).where(ScoreHistory.customer_id == customer_id)
        if before:
            query = query.where(tuple_(ScoreHistory.computed_at, ScoreHistory.id) < tuple_(*before))
        query = query.order_by(ScoreHistory.computed_at.desc(), ScoreHistory.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())
