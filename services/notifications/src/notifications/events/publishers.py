"""Events the notifications service produces."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics, new_event
from crm_shared.contracts.events import TaskCreatedV1
from crm_shared.messaging.outbox import add_event

SOURCE = "crm/notifications"


async def publish_task_created(session: AsyncSession, task: Row[Any]) -> None:
    data = TaskCreatedV1(
        task_id=task.id,
        customer_id=task.customer_id,
        type=task.type,
        playbook=task.playbook,
        priority=task.priority,
        due_at=task.due_at,
        assignee=task.assignee,
        cause_event_id=task.cause_event_id,
    )
    await add_event(
        session,
        new_event(type="crm.task.created.v1", source=SOURCE, subject=task.customer_id, data=data),
        Topics.outreach,
    )
