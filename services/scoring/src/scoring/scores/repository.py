"""All queries on scores."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.scores.models import CustomerScore, ScoreHistory


class ScoreRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, customer_id: uuid.UUID) -> CustomerScore | None:
        return await self.session.get(CustomerScore, customer_id)

    async def get_for_update(self, customer_id: uuid.UUID) -> CustomerScore | None:
        """Locks the customer's row: concurrent updates of one customer apply one at a time."""
        return (
            await self.session.scalars(
                select(CustomerScore).where(CustomerScore.customer_id == customer_id).with_for_update()
            )
        ).first()

    def add(self, score: CustomerScore) -> None:
        self.session.add(score)

    def add_history(self, entry: ScoreHistory) -> None:
        self.session.add(entry)

    async def history(
        self, customer_id: uuid.UUID, *, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[ScoreHistory]:
        query = select(ScoreHistory).where(ScoreHistory.customer_id == customer_id)
        if before:
            query = query.where(tuple_(ScoreHistory.computed_at, ScoreHistory.id) < tuple_(*before))
        query = query.order_by(ScoreHistory.computed_at.desc(), ScoreHistory.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())
