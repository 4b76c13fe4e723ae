"""All queries on feedback."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from feedback.intake.models import Feedback

_COLUMNS = [c.name for c in Feedback.__table__.columns]
_INSERT = insert(Feedback.__table__).values({c: bindparam(c) for c in _COLUMNS})
ERASED_TEXT = "[erased]"


class FeedbackRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, feedback: Feedback) -> Feedback:
        """Insert with a statement built once: this is the hot path of every complaint."""
        await self.session.execute(_INSERT, {c: getattr(feedback, c) for c in _COLUMNS})
        return feedback

    async def get(self, feedback_id: uuid.UUID) -> Feedback | None:
        return await self.session.get(Feedback, feedback_id)

    async def list(
        self, *, customer_id: uuid.UUID | None, type: str | None, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[Feedback]:
        query = select(Feedback)
        if customer_id:
            query = query.where(Feedback.customer_id == customer_id)
        if type:
            query = query.where(Feedback.type == type)
        if before:
            query = query.where(tuple_(Feedback.received_at, Feedback.id) < tuple_(*before))
        query = query.order_by(Feedback.received_at.desc(), Feedback.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        await self.session.execute(update(Feedback).where(Feedback.customer_id == from_id).values(customer_id=to_id))

    async def erase_free_text(self, customer_ids: list[uuid.UUID]) -> None:
        """What the customer said, and the source system's reference that leads back to it, go;
        type, category, severity, channel, tier and dates stay for reporting."""
        await self.session.execute(
            update(Feedback)
            .where(Feedback.customer_id.in_(customer_ids))
            .values(description=ERASED_TEXT, external_ref=None)
        )
