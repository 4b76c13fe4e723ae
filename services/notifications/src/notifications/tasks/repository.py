"""All queries on tasks."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.tasks.models import Task

_TASKS = Task.__table__
# Built once: it runs for every complaint.
_CREATE_ONCE = (
    insert(_TASKS)
    .values({c.name: bindparam(c.name) for c in _TASKS.columns})
    .on_conflict_do_nothing(constraint="uq_tasks_cause_playbook")
    .returning(*_TASKS.columns)
)


class TaskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create_once(self, values: dict[str, Any]) -> Row[Any] | None:
        """Insert unless this (cause event, playbook) already made a task; None if it had."""
        return (await self.session.execute(_CREATE_ONCE, values)).first()

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
