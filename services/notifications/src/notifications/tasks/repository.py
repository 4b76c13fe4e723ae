"""All queries on tasks."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from crm_shared.db import Repository
from crm_shared.projections import current_id_of, in_reach
from notifications.tasks.models import Task

_TASKS = Task.__table__
OPEN_STATUSES = ("open", "claimed")
# Spelled out (no bound parameters), so the planner matches the partial index on pending escalations.
_PENDING_ESCALATION = text("tasks.next_escalation_at IS NOT NULL AND tasks.status IN ('open', 'claimed')")
# Built once: it runs for every complaint.
# The customer id follows an alias in the same statement: an event for a merged id (sent
# before the merge reached us) makes the survivor's task, with no extra round trip.
_CREATE_ONCE = (
    insert(_TASKS)
    .values(
        {
            c.name: current_id_of(bindparam(c.name)) if c.name == "customer_id" else bindparam(c.name)
            for c in _TASKS.columns
        }
    )
    .on_conflict_do_nothing(constraint="uq_tasks_cause_action")
    .returning(*_TASKS.columns)
)


class TaskRepository(Repository):
    async def create_once(self, values: dict[str, Any]) -> Row[Any] | None:
        """Insert unless this (cause event, playbook, action) already made a task; None if it had."""
        return (await self.session.execute(_CREATE_ONCE, values)).first()

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        """Open tasks stay open and keep their assignee: the work is still owed, now to the survivor."""
        await self.session.execute(update(Task).where(Task.customer_id == from_id).values(customer_id=to_id))

    async def redact_titles(self, customer_ids: list[uuid.UUID], identifiers: list[str], title: str) -> None:
        """Titles that quote the customer's name, email or phone get a generic one."""
        if not identifiers:
            return
        mentions = [func.strpos(func.lower(Task.title), identifier.lower()) > 0 for identifier in identifiers]
        await self.session.execute(
            update(Task).where(Task.customer_id.in_(customer_ids), or_(*mentions)).values(title=title)
        )

    async def redact_outcomes(self, customer_ids: list[uuid.UUID], text: str) -> None:
        """Outcomes and cancel reasons are prose about the customer: the fact that there was one stays."""
        await self.session.execute(
            update(Task).where(Task.customer_id.in_(customer_ids), Task.outcome.is_not(None)).values(outcome=text)
        )

    async def get(self, task_id: uuid.UUID, *, for_update: bool = False) -> Task | None:
        """The task, if its customer is within the caller's reach (crm_shared.access)."""
        if not for_update and self.reach.every_customer:
            return await self.session.get(Task, task_id)
        query = select(Task).where(Task.id == task_id, in_reach(self.reach, Task.customer_id))
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def claim_due_escalations(self, now: datetime, limit: int) -> list[Task]:
        """Open or claimed tasks whose escalation deadline passed, locked; SKIP LOCKED lets two
        timers split the work instead of escalating one task twice."""
        query = (
            select(Task)
            .where(_PENDING_ESCALATION, Task.next_escalation_at <= now)
            .order_by(Task.next_escalation_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return list((await self.session.scalars(query)).all())

    async def earliest_escalation(self) -> datetime | None:
        """Served by the partial index on pending escalations."""
        query = select(func.min(Task.next_escalation_at)).where(_PENDING_ESCALATION)
        return await self.session.scalar(query)

    async def count_pending_escalations(self) -> int:
        """Tasks whose escalation timer is still to fire (the partial index serves it too)."""
        query = select(func.count()).select_from(Task).where(_PENDING_ESCALATION)
        return int(await self.session.scalar(query) or 0)

    async def list(
        self,
        *,
        customer_id: uuid.UUID | None,
        statuses: list[str] | None,
        subject: str | None = None,
        assignee: str | None,
        type: str | None,
        due_before: datetime | None,
        due_after: datetime | None,
        overdue: bool | None,
        closed_since: datetime | None,
        now: datetime,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Task]:
        query = select(Task).where(in_reach(self.reach, Task.customer_id))
        if customer_id:
            query = query.where(Task.customer_id == customer_id)
        if statuses:
            query = query.where(Task.status.in_(statuses))
        if subject:
            query = query.where(Task.subject == subject)
        if assignee:
            query = query.where(Task.assignee == assignee)
        if type:
            query = query.where(Task.type == type)
        if due_before:
            query = query.where(Task.due_at < due_before)
        if due_after:
            query = query.where(Task.due_at >= due_after)
        if overdue is not None:
            is_overdue = Task.status.in_(OPEN_STATUSES) & (Task.due_at < now)
            query = query.where(is_overdue if overdue else ~is_overdue)
        if closed_since:
            query = query.where(Task.closed_at >= closed_since)
        if before:
            query = query.where(tuple_(Task.created_at, Task.id) < tuple_(*before))
        query = query.order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def open_for_subject(self, subject: str, cause_event_type: str) -> builtins.list[Task]:
        """The open or claimed management tasks one alert (or theme) made, locked for closing."""
        query = (
            select(Task)
            .where(Task.subject == subject, Task.status.in_(OPEN_STATUSES), Task.cause_event_type == cause_event_type)
            .order_by(Task.created_at, Task.id)
            .with_for_update()
        )
        return list((await self.session.scalars(query)).all())
