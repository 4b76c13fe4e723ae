"""All queries on SLA policies and clocks."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, union_all, update

from crm_shared.db import Prebuilt, Repository
from crm_shared.versioning import VersionedRepository
from feedback.records.models import Feedback
from feedback.records.repository import INSERT_FEEDBACK, insert_params
from feedback.sla.models import SlaClock, SlaPolicyRecord


class SlaPolicyRepository(VersionedRepository[SlaPolicyRecord]):
    model = SlaPolicyRecord
    lock_id = 0x736C_6170  # "slap"


_CLOCK_COLUMNS = [c.name for c in SlaClock.__table__.columns]


@functools.cache
def _insert_case(clocks: int) -> Prebuilt:
    """A new case and its clocks in one statement (one round trip on the intake's hot path, run
    on the driver connection): the feedback insert is a CTE, the clocks go in only if it stored
    the row (its source reference was not taken), so rows come back exactly when the case was
    recorded."""
    table = SlaClock.__table__
    feedback = INSERT_FEEDBACK.cte("new_feedback")
    rows = union_all(
        *(select(*(bindparam(f"c{i}_{c.name}", type_=c.type) for c in table.columns)) for i in range(clocks))
    ).subquery("clocks")
    recorded = select(feedback.c.id).exists()
    return Prebuilt(
        insert(table)
        .from_select(_CLOCK_COLUMNS, select(*rows.c).where(recorded))
        .add_cte(feedback)
        .returning(table.c.id)
    )


class SlaClockRepository(Repository):
    async def erase_pause_reasons(self, customer_ids: list[uuid.UUID]) -> None:
        """Why a clock waits on the customer is prose about them; the timings stay."""
        of_customer = select(Feedback.id).where(Feedback.customer_id.in_(customer_ids)).scalar_subquery()
        await self.session.execute(
            update(SlaClock)
            .where(SlaClock.feedback_id.in_(of_customer), SlaClock.pause_reason.is_not(None))
            .values(pause_reason="[erased]")
        )

    async def add_case(self, feedback: Feedback, clocks: list[SlaClock]) -> bool:
        """Stores a new case with its clocks; False (nothing stored): its source reference was
        stored first (`FeedbackRepository.add` tells the same)."""
        params: dict[str, object] = insert_params(feedback)
        for i, clock in enumerate(clocks):
            params |= {f"c{i}_{c}": getattr(clock, c) for c in _CLOCK_COLUMNS}
        return await _insert_case(len(clocks)).fetchrow(self.session, params) is not None

    async def of_feedback(self, feedback_id: uuid.UUID, *, for_update: bool = False) -> list[SlaClock]:
        query = select(SlaClock).where(SlaClock.feedback_id == feedback_id).order_by(SlaClock.clock)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return list((await self.session.scalars(query)).all())

    async def claim_due(self, now: datetime, limit: int) -> list[tuple[SlaClock, Feedback]]:
        """Running clocks past their deadline, locked; SKIP LOCKED lets two timers split the work
        instead of firing one clock twice (the loser sees it `breached` once the winner commits)."""
        query = (
            select(SlaClock, Feedback)
            .join(Feedback, Feedback.id == SlaClock.feedback_id)
            .where(SlaClock.status == "running", SlaClock.due_at <= now)
            .order_by(SlaClock.due_at)
            .limit(limit)
            .with_for_update(of=SlaClock.__table__, skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return [(clock, feedback) for clock, feedback in (await self.session.execute(query)).all()]

    async def earliest_due(self) -> datetime | None:
        """Served by the partial index on running deadlines."""
        query = select(func.min(SlaClock.due_at)).where(SlaClock.status == "running")
        return await self.session.scalar(query)

    async def count_running(self) -> int:
        """Clocks not yet fired (the partial index on running deadlines serves it too)."""
        query = select(func.count()).select_from(SlaClock).where(SlaClock.status == "running")
        return int(await self.session.scalar(query) or 0)

    async def open_of_customer(self, customer_id: uuid.UUID, limit: int) -> list[SlaClock]:
        """The customer's clocks still counting (running) or waiting on them (paused), soonest due first."""
        query = (
            select(SlaClock)
            .join(Feedback, Feedback.id == SlaClock.feedback_id)
            .where(Feedback.customer_id == customer_id, SlaClock.status.in_(("running", "paused")))
            .order_by(SlaClock.due_at, SlaClock.id)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())
