"""Events the notifications service produces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics, new_event
from crm_shared.contracts.events import (
    TaskCreatedV1,
    TaskCreatedV2,
    TaskEscalatedV1,
    TaskEscalatedV2,
    TaskStatusChangedV1,
    TaskStatusChangedV2,
)
from crm_shared.messaging.outbox import add_event

SOURCE = "crm/notifications"


def _versioned(task: Any, v1: type[Any], v2: type[Any], name: str, **fields: Any) -> tuple[Any, str, Any]:
    """A task about a customer is announced as v1 (as it always was); one about no customer (an
    indicator alert, a complaint theme) as v2, which names its `subject` instead."""
    if task.customer_id is not None:
        return v1(customer_id=task.customer_id, **fields), f"crm.task.{name}.v1", task.customer_id
    return v2(customer_id=None, subject=task.subject, **fields), f"crm.task.{name}.v2", task.subject


async def publish_task_created(session: AsyncSession, task: Row[Any], event_id: uuid.UUID) -> None:
    """`event_id` was stored with the task (`created_event_id`): events it causes are traced back."""
    data, event_type, subject = _versioned(
        task,
        TaskCreatedV1,
        TaskCreatedV2,
        "created",
        task_id=task.id,
        type=task.type,
        playbook=task.playbook,
        priority=task.priority,
        due_at=task.due_at,
        assignee=task.assignee,
        cause_event_id=task.cause_event_id,
    )
    event = new_event(type=event_type, source=SOURCE, subject=subject, data=data)
    await add_event(session, event.model_copy(update={"id": event_id}), Topics.outreach)


async def publish_task_status_changed(
    session: AsyncSession, task: Any, *, previous: str, changed_by: str, changed_at: datetime
) -> uuid.UUID:
    data, event_type, subject = _versioned(
        task,
        TaskStatusChangedV1,
        TaskStatusChangedV2,
        "status_changed",
        task_id=task.id,
        type=task.type,
        playbook=task.playbook,
        previous=previous,
        current=task.status,
        outcome=task.outcome,
        changed_by=changed_by,
        changed_at=changed_at,
    )
    event = new_event(type=event_type, source=SOURCE, subject=subject, data=data)
    await add_event(session, event, Topics.outreach)
    return event.id


async def publish_task_escalated(session: AsyncSession, task: Any, *, level: int, previous_assignee: str) -> uuid.UUID:
    data, event_type, subject = _versioned(
        task,
        TaskEscalatedV1,
        TaskEscalatedV2,
        "escalated",
        task_id=task.id,
        type=task.type,
        playbook=task.playbook,
        level=level,
        escalated_to=task.assignee,
        previous_assignee=previous_assignee,
        due_at=task.due_at,
        escalated_at=task.escalated_at,
    )
    event = new_event(type=event_type, source=SOURCE, subject=subject, data=data)
    await add_event(session, event, Topics.outreach)
    return event.id
