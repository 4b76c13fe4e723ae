"""All queries on tasks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.projections import current_id_of
from notifications.tasks.models import Task

_TASKS = Task.__table__
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
    .on_conflict_do_nothing(constraint="uq_tasks_cause_playbook")
    .returning(*_TASKS.columns)
)


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create_once(self, values: dict[str, Any]) -> Row[Any] | None:
        """Insert unless this (cause event, playbook) already made a task; None if it had."""
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

    async def get(self, task_id: uuid.UUID) -> Task | None:
        return await self.session.get(Task, task_id)

    async def list(
        self,
        *,
        customer_id: uuid.UUID | None,
        status: str | None,
        assignee: str | None,
        type: str | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> list[Task]:
        query = select(Task)
        if customer_id:
            query = query.where(Task.customer_id == customer_id)
        if status:
            query = query.where(Task.status == status)
        if assignee:
            query = query.where(Task.assignee == assignee)
        if type:
            query = query.where(Task.type == type)
        if before:
            query = query.where(tuple_(Task.created_at, Task.id) < tuple_(*before))
        query = query.order_by(Task.created_at.desc(), Task.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())
