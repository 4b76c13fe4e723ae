"""Task use cases: the `create_task` playbook action (exactly once per trigger event and action),
the task lifecycle (claim, complete, cancel) and the merge/erasure handlers. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import ContactErasedV1, ContactMergedV1
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound
from crm_shared.projections import erase_customer, get_customer, merge_customer
from notifications.events.publishers import publish_task_created, publish_task_status_changed
from notifications.playbooks import rules
from notifications.playbooks.repository import PlaybookRepository
from notifications.tasks import recovery
from notifications.tasks.repository import TaskRepository
from notifications.tasks.schemas import TaskFilters, TaskPage, TaskRead, TaskStatus
from notifications.teams.assignment import FALLBACK_QUEUE, assignee_for, round_robin
from notifications.teams.repository import TeamRepository

# Title of a task whose own title named an erased customer.
ERASED_TITLE = "Follow-up task (customer details erased)"
ERASED_TEXT = "[erased]"

# Which statuses each lifecycle step may start from.
_FROM = {
    TaskStatus.claimed: (TaskStatus.open,),
    TaskStatus.done: (TaskStatus.open, TaskStatus.claimed),
    TaskStatus.cancelled: (TaskStatus.open, TaskStatus.claimed),
}


async def _assignee(session: AsyncSession, assign_to: str, owner: str | None) -> tuple[str, str | None]:
    if assign_to.startswith("team:"):
        team = assign_to.removeprefix("team:")
        turn = await TeamRepository(session).take_turn(team)
        member = round_robin(turn.members, turn.turn) if turn else None
        return assignee_for(assign_to, owner=owner, team_member=member), team
    return assignee_for(assign_to, owner=owner, team_member=None), None


async def create_task_action(
    session: AsyncSession,
    trigger: Envelope,
    *,
    playbook: str,
    action_key: str,
    customer: Row[Any] | None,
    params: dict[str, Any],
) -> None:
    """The `create_task` executor: one insert (prebuilt) and its event; a repeat of the trigger
    event (same id) meets the unique key and makes nothing."""
    facts = rules.facts_of(trigger, customer)
    owner = facts.get("owner")
    if owner is None and customer is None and params["assign_to"] == "owner":
        found = await get_customer(session, uuid.UUID(trigger.subject))
        owner = found.owner if found else None
    at: datetime = facts["at"]
    due = params["due"]
    if "hours" in due:
        due_at = at + timedelta(hours=due["hours"])
    else:
        due_at = recovery.due_by_severity_and_tier(at, facts.get("severity"), facts.get("tier"))
    priority = params["priority"]
    if priority == "by_severity":
        priority = recovery.priority_by_severity(facts.get("severity"))
    assignee, team = await _assignee(session, params["assign_to"], owner)
    event_id = new_id()
    task = await TaskRepository(session).create_once(
        {
            "id": new_id(),
            "created_at": utcnow(),
            "customer_id": uuid.UUID(trigger.subject),
            "type": params["task_type"],
            "playbook": playbook,
            "action_key": action_key,
            "title": rules.render(params["title"], facts)[:300],
            "status": TaskStatus.open.value,
            "priority": priority,
            "assignee": assignee,
            "team": team,
            "due_at": due_at,
            "cause_event_id": trigger.id,
            "cause_event_type": trigger.type,
            "correlation_id": trigger.correlationid,
            "created_event_id": event_id,
            "claimed_by": None,
            "outcome": None,
            "closed_at": None,
            "escalation_level": 0,
            # The first escalation is due the moment the task is.
            "next_escalation_at": due_at,
            "escalated_at": None,
        }
    )
    if task is not None:
        await publish_task_created(session, task, event_id)


async def _change_status(
    session: AsyncSession, task_id: uuid.UUID, to: TaskStatus, *, actor: str, outcome: str | None = None
) -> TaskRead:
    repository = TaskRepository(session)
    task = await repository.get(task_id, for_update=True)
    if task is None:
        raise NotFound("Task", task_id)
    if task.status not in _FROM[to]:
        allowed = [s.value for s, starts in _FROM.items() if task.status in starts]
        raise Conflict(
            f"A {task.status} task cannot become {to.value}.", current_status=task.status, allowed_next=allowed
        )
    previous, now = task.status, utcnow()
    task.status = to.value
    if to is TaskStatus.claimed:
        task.claimed_by = task.assignee = actor
    else:
        task.outcome, task.closed_at = outcome, now
        task.next_escalation_at = None  # done or cancelled: nothing left to escalate
    await session.flush()
    event_id = await publish_task_status_changed(session, task, previous=previous, changed_by=actor, changed_at=now)
    await PlaybookRepository(session).add_effects(event_id, [task.playbook])
    return TaskRead.model_validate(task)


async def claim(session: AsyncSession, task_id: uuid.UUID, *, actor: str) -> TaskRead:
    return await _change_status(session, task_id, TaskStatus.claimed, actor=actor)


async def complete(session: AsyncSession, task_id: uuid.UUID, *, actor: str, outcome: str) -> TaskRead:
    return await _change_status(session, task_id, TaskStatus.done, actor=actor, outcome=outcome)


async def cancel(session: AsyncSession, task_id: uuid.UUID, *, actor: str, reason: str) -> TaskRead:
    return await _change_status(session, task_id, TaskStatus.cancelled, actor=actor, outcome=reason)


async def on_contact_merged(session: AsyncSession, event: Envelope) -> tuple[uuid.UUID, uuid.UUID]:
    """The merged customer's tasks, open or done, move to the survivor: (merged id, survivor id)."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    survivor_id = await merge_customer(session, merge, event.time)
    await TaskRepository(session).move_customer(merge.merged_id, survivor_id)
    return merge.merged_id, survivor_id


async def on_contact_erased(session: AsyncSession, event: Envelope) -> list[uuid.UUID]:
    """Playbook titles are written from severity, category and band, never from the card; a
    title that quotes the customer anyway (a custom playbook, a hand-made task) is replaced.
    Outcomes and cancel reasons are free text about the customer: redacted."""
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    erased = await erase_customer(session, erasure, event.time)
    repository = TaskRepository(session)
    await repository.redact_titles(erased.ids, erased.identifiers, ERASED_TITLE)
    await repository.redact_outcomes(erased.ids, ERASED_TEXT)
    return erased.ids


async def live_task(session: AsyncSession, keys: Mapping[str, Any]) -> TaskRead:
    """A changed task (the live feed's keys) as `GET /v1/tasks/{id}` returns it."""
    return await get_task(session, uuid.UUID(str(keys["id"])))


async def get_task(session: AsyncSession, task_id: uuid.UUID) -> TaskRead:
    task = await TaskRepository(session).get(task_id)
    if task is None:
        raise NotFound("Task", task_id)
    return TaskRead.model_validate(task)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


async def list_tasks(session: AsyncSession, filters: TaskFilters, *, limit: int, cursor: str | None) -> TaskPage:
    rows = await TaskRepository(session).list(
        customer_id=filters.customer_id,
        statuses=[s.value for s in filters.status] if filters.status else None,
        assignee=filters.assignee,
        type=filters.type,
        due_before=_aware(filters.due_before),
        due_after=_aware(filters.due_after),
        overdue=filters.overdue,
        closed_since=_aware(filters.closed_since),
        now=utcnow(),
        limit=limit + 1,
        before=decode_time_cursor(cursor),
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return TaskPage(
        items=[TaskRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )


__all__ = ["FALLBACK_QUEUE", "cancel", "claim", "complete", "create_task_action", "get_task", "list_tasks"]
