"""Escalation: an overdue task (open or claimed past its due time) moves up a level, owner ->
team lead -> manager, at the deadline itself and then after the team's interval. Never commits.

The team is the one the task was assigned through (`team:<name>`), else the first team the
assignee is a member of; without one, the task escalates once, to the fallback target.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.db import utcnow
from notifications.events.publishers import publish_task_escalated
from notifications.playbooks.repository import PlaybookRepository
from notifications.tasks.repository import TaskRepository
from notifications.teams.assignment import TOP_LEVEL, escalation_target
from notifications.teams.repository import TeamRepository


@dataclass(frozen=True)
class EscalationPolicy:
    fallback: str


async def escalate_due(session: AsyncSession, now: datetime, limit: int, policy: EscalationPolicy) -> int:
    """Escalates up to `limit` due tasks and stages their events; returns how many."""
    tasks = TaskRepository(session)
    teams = TeamRepository(session)
    due = await tasks.claim_due_escalations(now, limit)
    fired_at = utcnow()
    for task in due:
        team = await teams.get(task.team) if task.team else None
        if team is None and task.escalation_level == 0:
            team = await teams.of_member(task.assignee)
        level = task.escalation_level + 1
        previous = task.assignee
        task.assignee = escalation_target(
            level,
            lead=team.lead if team else None,
            manager=team.manager if team else None,
            fallback=policy.fallback,
        )
        task.escalation_level, task.escalated_at = level, fired_at
        task.team = team.name if team else task.team
        if team is not None and level < TOP_LEVEL:
            # Counted from the deadline, not from when it fired: a late timer does not stretch the chain.
            assert task.next_escalation_at is not None  # claimed because its deadline passed
            task.next_escalation_at = task.next_escalation_at + timedelta(minutes=team.escalate_after_minutes)
        else:
            task.next_escalation_at = None
        await session.flush()
        event_id = await publish_task_escalated(session, task, level=level, previous_assignee=previous)
        await PlaybookRepository(session).add_effects(event_id, [task.playbook])
    return len(due)


async def next_deadline(session: AsyncSession) -> datetime | None:
    return await TaskRepository(session).earliest_escalation()


async def pending_escalations(session: AsyncSession) -> int:
    """For the worker's `crm_timers_pending` gauge."""
    return await TaskRepository(session).count_pending_escalations()
