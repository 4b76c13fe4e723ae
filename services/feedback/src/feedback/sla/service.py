"""SLA use cases: the versioned targets, starting, meeting, pausing and breaching clocks. Never commits.

Every case (a complaint, inquiry, technical-support request or suggestion) gets two clocks when
it is recorded; a complaint's targets go by severity and tier, the others' by type and tier.
A complaint gets two clocks when it is recorded: `first_response` (met when the case leaves
`received`) and `resolution` (met when it is `resolved` or `closed`). Targets come from the
policy in force then, by severity and the customer's tier of the time; later policy changes
apply to new complaints only. Reopening a resolved or closed case restarts the resolution clock
with a fresh full target (the customer waits again from that moment). Time paused while waiting
on the customer moves the deadline later on resume. Deadlines are calendar time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.vocabulary import CASE_TYPES, FeedbackType
from crm_shared.db import utcnow
from crm_shared.http.problems import Conflict, NotFound
from crm_shared.projections import get_customer
from feedback.events.publishers import publish_sla_breached
from feedback.records.models import Feedback
from feedback.records.repository import FeedbackRepository
from feedback.sla import clocks as clock_rules
from feedback.sla.models import SlaClock
from feedback.sla.policy_cache import PolicyCache
from feedback.sla.repository import SlaClockRepository, SlaPolicyRepository
from feedback.sla.schemas import (
    DEFAULT_TARGETS,
    CustomerClockRead,
    CustomerClocks,
    SlaClockRead,
    SlaPolicy,
    SlaStatus,
    SlaTargets,
)


async def current_policy(session: AsyncSession) -> SlaPolicy:
    record = await SlaPolicyRepository(session).current()
    if record is None:
        return SlaPolicy(version=0, targets=DEFAULT_TARGETS, created_by="default", created_at=None)
    return SlaPolicy.model_validate(record)


async def change_policy(session: AsyncSession, targets: SlaTargets, *, actor: str) -> SlaPolicy:
    record = await SlaPolicyRepository(session).add_version(actor, targets=targets.model_dump(mode="json"))
    POLICIES.forget(_database(session))
    return SlaPolicy.model_validate(record)


# What new cases start their clocks with (feedback/sla/policy_cache.py).
POLICIES = PolicyCache()


def _database(session: AsyncSession) -> str:
    return str(session.bind.sync_engine.url) if session.bind is not None else ""


async def policy_for_new_cases(session: AsyncSession) -> SlaPolicy:
    """The policy in force, read at most once per `TTL_SECONDS` per process."""
    database = _database(session)
    if (cached := POLICIES.get(database)) is not None:
        return cached
    policy = await current_policy(session)
    POLICIES.put(database, policy)
    return policy


async def record(session: AsyncSession, feedback: Feedback) -> bool:
    """Stores new feedback and, for a case, its clocks with it (one statement): a complaint is
    never without its deadlines, and the clocks' trigger wakes the timer when that transaction
    commits. False: nothing stored, the same source reference was stored first."""
    if FeedbackType(feedback.type) not in CASE_TYPES:
        return await FeedbackRepository(session).add(feedback)
    policy = await policy_for_new_cases(session)
    clocks = clock_rules.new_clocks(
        feedback.id,
        severity=feedback.severity,
        tier=feedback.customer_tier,
        received_at=feedback.received_at,
        targets=policy.targets,
        policy_version=policy.version,
        type=feedback.type,
    )
    return await SlaClockRepository(session).add_case(feedback, clocks)


async def on_status_changed(
    session: AsyncSession, feedback: Feedback, previous: Any, current: Any, *, done: frozenset[str]
) -> None:
    """Called by every case transition (`feedback.cases.service`), in the transition's transaction;
    `done` are the statuses that end a case of this type (its lifecycle's, which sits above)."""
    of_feedback = await SlaClockRepository(session).of_feedback(feedback.id, for_update=True)
    clock_rules.apply_transition(
        {c.clock: c for c in of_feedback},
        str(previous) if previous is not None else None,
        str(current),
        utcnow(),
        done,
    )


async def _clocks_of(session: AsyncSession, feedback_id: uuid.UUID, *, for_update: bool) -> list[SlaClock]:
    if await FeedbackRepository(session).get(feedback_id) is None:
        raise NotFound("Feedback", feedback_id)
    return await SlaClockRepository(session).of_feedback(feedback_id, for_update=for_update)


async def sla_status(session: AsyncSession, feedback_id: uuid.UUID) -> SlaStatus:
    clocks = await _clocks_of(session, feedback_id, for_update=False)
    return SlaStatus(feedback_id=feedback_id, clocks=[SlaClockRead.model_validate(c) for c in clocks])


async def pause(session: AsyncSession, feedback_id: uuid.UUID, reason: str) -> SlaStatus:
    clocks = await _clocks_of(session, feedback_id, for_update=True)
    running = [c for c in clocks if c.status == "running"]
    if not running:
        raise Conflict(f"Feedback {feedback_id} has no running SLA clock to pause.")
    now = utcnow()
    for clock in running:
        clock_rules.pause(clock, now, reason)
    await session.flush()
    return SlaStatus(feedback_id=feedback_id, clocks=[SlaClockRead.model_validate(c) for c in clocks])


async def resume(session: AsyncSession, feedback_id: uuid.UUID) -> SlaStatus:
    clocks = await _clocks_of(session, feedback_id, for_update=True)
    paused = [c for c in clocks if c.status == "paused"]
    if not paused:
        raise Conflict(f"Feedback {feedback_id} has no paused SLA clock to resume.")
    now = utcnow()
    for clock in paused:
        clock_rules.resume(clock, now)
    await session.flush()
    return SlaStatus(feedback_id=feedback_id, clocks=[SlaClockRead.model_validate(c) for c in clocks])


async def breach_due(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Marks up to `limit` overdue running clocks breached and stages their events; returns how many."""
    due = await SlaClockRepository(session).claim_due(now, limit)
    fired_at = utcnow()
    for clock, feedback in due:
        clock.status, clock.breached_at = "breached", fired_at
        if feedback.customer_id is None:
            # An unmatched caller's complaint: events are keyed by customer, so the breach stays
            # on the clock (GET .../sla) and is not announced.
            continue
        customer = await get_customer(session, feedback.customer_id)
        await publish_sla_breached(
            session,
            feedback,
            clock=clock.clock,
            due_at=clock.due_at,
            breached_at=fired_at,
            severity=clock.severity,
            tier=clock.tier,
            owner=customer.owner if customer else None,
        )
    await session.flush()
    return len(due)


async def next_deadline(session: AsyncSession) -> datetime | None:
    return await SlaClockRepository(session).earliest_due()


async def pending_clocks(session: AsyncSession) -> int:
    """For the worker's `crm_timers_pending` gauge."""
    return await SlaClockRepository(session).count_running()


async def open_clocks(session: AsyncSession, customer_id: uuid.UUID, limit: int) -> CustomerClocks:
    """What is still counting for a customer: the customer 360 shows it next to the open cases."""
    clocks = await SlaClockRepository(session).open_of_customer(customer_id, limit)
    return CustomerClocks(items=[CustomerClockRead.model_validate(c) for c in clocks])
