"""All queries on complaint cases: the locked feedback row, status history, notes."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from crm_shared.db import Repository
from crm_shared.projections import in_reach
from feedback.cases.models import CaseNote, StatusChange
from feedback.records.models import Feedback
from feedback.records.repository import ERASED_TEXT


class CaseRepository(Repository):
    async def lock_feedback(self, feedback_id: uuid.UUID) -> Feedback | None:
        """FOR UPDATE: two agents moving the same case at once run one after the other, and the
        second sees the status the first left (populate_existing refreshes a cached row)."""
        query = (
            select(Feedback)
            .where(Feedback.id == feedback_id, in_reach(self.reach, Feedback.customer_id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).first()

    async def feedback_exists(self, feedback_id: uuid.UUID) -> bool:
        query = select(Feedback.id).where(Feedback.id == feedback_id, in_reach(self.reach, Feedback.customer_id))
        return (await self.session.scalar(query)) is not None

    async def customer_of(self, feedback_id: uuid.UUID) -> uuid.UUID | None:
        return await self.session.scalar(select(Feedback.customer_id).where(Feedback.id == feedback_id))

    async def history(self, feedback_id: uuid.UUID) -> list[StatusChange]:
        query = (
            select(StatusChange)
            .where(StatusChange.feedback_id == feedback_id)
            .order_by(StatusChange.changed_at, StatusChange.id)
        )
        return list((await self.session.scalars(query)).all())

    async def notes(self, feedback_id: uuid.UUID) -> list[CaseNote]:
        query = select(CaseNote).where(CaseNote.feedback_id == feedback_id).order_by(CaseNote.created_at, CaseNote.id)
        return list((await self.session.scalars(query)).all())

    async def erase_free_text(self, customer_ids: list[uuid.UUID]) -> None:
        """Notes and transition reasons are staff prose about the customer: they go; who moved
        the case, when and to which status stay (the case's timeline is not personal data)."""
        of_customer = select(Feedback.id).where(Feedback.customer_id.in_(customer_ids)).scalar_subquery()
        await self.session.execute(
            update(CaseNote).where(CaseNote.feedback_id.in_(of_customer)).values(text=ERASED_TEXT)
        )
        await self.session.execute(
            update(StatusChange)
            .where(StatusChange.feedback_id.in_(of_customer), StatusChange.reason.is_not(None))
            .values(reason=ERASED_TEXT)
        )
