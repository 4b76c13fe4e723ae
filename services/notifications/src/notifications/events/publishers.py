"""Events the notifications service produces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics, new_event
from crm_shared.contracts.events import TaskCreatedV1, TaskEscalatedV1, TaskStatusChangedV1
from crm_shared.messaging.outbox import add_event

SOURCE = "crm/notifications"


async def publish_task_created(session: AsyncSession, task: Row[Any], event_id: uuid.UUID) -> None:
    """`event_id` was stored with the task (`created_event_id`): events it causes are traced back."""
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
    event = new_event(type="crm.task.created.v1", source=SOURCE, subject=task.customer_id, data=data)
    await add_event(session, event.model_copy(update={"id": event_id}), Topics.outreach)


async def publish_task_status_changed(
    session: AsyncSession, task: Any, *, previous: str, changed_by: str, changed_at: datetime
) -> uuid.UUID:
    data = TaskStatusChangedV1(
        task_id=task.id,
        customer_id=task.customer_id,
        type=task.type,
        playbook=task.playbook,
        previous=previous,
        current=task.status,
        outcome=task.outcome,
        changed_by=changed_by,
        changed_at=changed_at,
    )
    event = new_event(type="crm.task.status_changed.v1", source=SOURCE, subject=task.customer_id, data=data)
    await add_event(session, event, Topics.outreach)
    return event.id


async def publish_task_escalated(session: AsyncSession, task: Any, *, level: int, previous_assignee: str) -> uuid.UUID:
    data = TaskEscalatedV1(
        task_id=task.id,
        customer_id=task.customer_id,
        type=task.type,
        playbook=task.playbook,
        level=level,
        escalated_to=task.assignee,
        previous_assignee=previous_assignee,
        due_at=task.due_at,
        escalated_at=task.escalated_at,
    )
    event = new_event(type="crm.task.escalated.v1", source=SOURCE, subject=task.customer_id, data=data)
    await add_event(session, event, Topics.outreach)
    return event.id
