"""Task use cases: turn events into follow-up work, exactly once per trigger and playbook."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import (
    ContactErasedV1,
    ContactMergedV1,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    ScoreChangedV1,
)
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound
from crm_shared.projections import erase_customer, get_customer, merge_customer
from notifications.events.publishers import publish_task_created
from notifications.messages import service as messages
from notifications.tasks import playbooks
from notifications.tasks.repository import TaskRepository
from notifications.tasks.schemas import TaskPage, TaskRead

# Queue that gets a customer's tasks when the customer has no account owner.
FALLBACK_QUEUE = "service-desk"
# Title of a task whose own title named an erased customer.
ERASED_TITLE = "Follow-up task (customer details erased)"


async def _create(
    session: AsyncSession, customer_id: uuid.UUID, plans: list[playbooks.TaskPlan], cause: Envelope, owner: str | None
) -> None:
    repository = TaskRepository(session)
    for plan in plans:
        task = await repository.create_once(
            {
                "id": new_id(),
                "created_at": utcnow(),
                "customer_id": customer_id,
                "type": plan.type,
                "playbook": plan.playbook,
                "title": plan.title,
                "status": "open",
                "priority": plan.priority,
                "assignee": plan.assignee or owner or FALLBACK_QUEUE,
                "due_at": plan.due_at,
                "cause_event_id": cause.id,
                "cause_event_type": cause.type,
                "correlation_id": cause.correlationid,
            }
        )
        if task is not None:
            await publish_task_created(session, task)


async def on_feedback_received(session: AsyncSession, event: Envelope) -> None:
    feedback = event.payload()
    assert isinstance(feedback, FeedbackReceivedV1)
    plans = playbooks.plan_for_feedback(feedback)
    if plans:
        # The event carries the owner at complaint time, so no lookup on the hot path.
        await _create(session, feedback.customer_id, plans, event, feedback.customer.owner)


async def on_feedback_status_changed(session: AsyncSession, event: Envelope) -> None:
    """A resolved complaint gets its satisfaction follow-up, owned like the recovery task: the
    owner the event carries, else the projection's, else the fallback queue."""
    change = event.payload()
    assert isinstance(change, FeedbackStatusChangedV1)
    plans = playbooks.plan_for_status_change(change)
    if plans:
        owner = change.customer.owner
        if owner is None:
            customer = await get_customer(session, change.customer_id)
            owner = customer.owner if customer else None
        await _create(session, change.customer_id, plans, event, owner)


async def on_score_changed(session: AsyncSession, event: Envelope) -> None:
    change = event.payload()
    assert isinstance(change, ScoreChangedV1)
    plans = playbooks.plan_for_score_change(change)
    if plans:
        customer = await get_customer(session, change.customer_id)
        await _create(session, change.customer_id, plans, event, customer.owner if customer else None)


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The merged customer's tasks, open or done, move to the survivor."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    survivor_id = await merge_customer(session, merge, event.time)
    await TaskRepository(session).move_customer(merge.merged_id, survivor_id)
    await messages.on_customer_merged(session, merge.merged_id, survivor_id)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    """Playbook titles are written from severity, category and band, never from the card; a
    title that quotes the customer anyway (a future playbook, a hand-made task) is replaced."""
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    erased = await erase_customer(session, erasure, event.time)
    await TaskRepository(session).redact_titles(erased.ids, erased.identifiers, ERASED_TITLE)
    await messages.on_customer_erased(session, erased.ids)


async def get_task(session: AsyncSession, task_id: uuid.UUID) -> TaskRead:
    task = await TaskRepository(session).get(task_id)
    if task is None:
        raise NotFound("Task", task_id)
    return TaskRead.model_validate(task)


async def list_tasks(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID | None,
    status: str | None,
    assignee: str | None,
    type: str | None,
    limit: int,
    cursor: str | None,
) -> TaskPage:
    rows = await TaskRepository(session).list(
        customer_id=customer_id,
        status=status,
        assignee=assignee,
        type=type,
        limit=limit + 1,
        before=decode_time_cursor(cursor),
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return TaskPage(
        items=[TaskRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )
