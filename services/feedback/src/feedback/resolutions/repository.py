"""All queries on the cause taxonomy and complaint resolutions."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from crm_shared.db import Repository
from feedback.records.models import Feedback
from feedback.records.repository import ERASED_TEXT
from feedback.resolutions.models import CauseCode, Resolution


class CauseCodeRepository(Repository):
    async def get(self, code: str) -> CauseCode | None:
        return await self.session.get(CauseCode, code)

    async def list(self, *, include_inactive: bool) -> list[CauseCode]:
        query = select(CauseCode).order_by(CauseCode.code)
        if not include_inactive:
            query = query.where(CauseCode.active.is_(True))
        return list((await self.session.scalars(query)).all())


class ResolutionRepository(Repository):
    async def get(self, feedback_id: uuid.UUID, *, for_update: bool = False) -> Resolution | None:
        query = select(Resolution).where(Resolution.feedback_id == feedback_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return (await self.session.scalars(query)).first()

    async def erase_free_text(self, customer_ids: list[uuid.UUID]) -> None:
        """The remedy is staff prose about the customer's case: it goes; the cause code and the
        compensation's amount and dates stay for the reports."""
        of_customer = select(Feedback.id).where(Feedback.customer_id.in_(customer_ids)).scalar_subquery()
        await self.session.execute(
            update(Resolution).where(Resolution.feedback_id.in_(of_customer)).values(remedy=ERASED_TEXT)
        )
