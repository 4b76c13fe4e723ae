"""The SLA clock arithmetic, pure (no I/O): deadlines, meeting, restarting, pausing, resuming.

Kept apart from the use cases so the rules that decide what a customer was promised can be
tested without a database; `service.py` loads and locks the clocks and calls these.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from crm_shared.contracts.vocabulary import CaseStatus
from crm_shared.db import new_id
from feedback.sla.models import ClockKind, SlaClock
from feedback.sla.schemas import SlaTargets

CLOCKS: tuple[ClockKind, ...] = ("first_response", "resolution")
OPEN = ("running", "paused")
DONE = frozenset({CaseStatus.resolved.value, CaseStatus.closed.value})  # a complaint's


def new_clocks(
    feedback_id: uuid.UUID,
    *,
    severity: str,
    tier: str,
    received_at: datetime,
    targets: SlaTargets,
    policy_version: int,
    type: str = "complaint",
) -> list[SlaClock]:
    """A case's two clocks, each due its policy target after the request arrived (a complaint's
    by severity and tier, another request type's by type and tier)."""
    clocks = []
    for kind in CLOCKS:
        target = targets.seconds(kind, severity, tier, type)
        clocks.append(
            SlaClock(
                id=new_id(),
                feedback_id=feedback_id,
                clock=kind,
                severity=severity,
                tier=tier,
                policy_version=policy_version,
                target_seconds=float(target),
                started_at=received_at,
                due_at=received_at + timedelta(seconds=target),
                status="running",
                paused_seconds=0.0,
                restarts=0,
            )
        )
    return clocks


def apply_transition(
    clocks: dict[str, SlaClock], previous: str | None, current: str, now: datetime, done: frozenset[str] = DONE
) -> None:
    """Leaving `received` meets first response; reaching a status of `done` (the case type's end:
    a complaint resolved or closed, an inquiry answered, ...) meets resolution; reopening a done
    case restarts resolution with its full target."""
    first = clocks.get("first_response")
    if first is not None and current != CaseStatus.received.value and first.met_at is None:
        meet(first, now)
    resolution = clocks.get("resolution")
    if resolution is None:
        return
    if current in done and resolution.met_at is None:
        meet(resolution, now)
    elif previous in done and current not in done:
        restart(resolution, now)


def meet(clock: SlaClock, now: datetime) -> None:
    """A breached clock keeps its status and records when it was met after all (late)."""
    if clock.status == "paused" and clock.paused_at is not None:
        clock.paused_seconds += (now - clock.paused_at).total_seconds()
        clock.paused_at, clock.pause_reason = None, None
    if clock.status in OPEN:
        clock.status = "met"
    clock.met_at = now


def restart(clock: SlaClock, now: datetime) -> None:
    clock.status = "running"
    clock.started_at = now
    clock.due_at = now + timedelta(seconds=clock.target_seconds)
    clock.met_at = clock.breached_at = clock.paused_at = clock.pause_reason = None
    clock.paused_seconds = 0.0
    clock.restarts += 1


def pause(clock: SlaClock, now: datetime, reason: str) -> None:
    """A paused clock never breaches: the timer only claims running ones."""
    clock.status, clock.paused_at, clock.pause_reason = "paused", now, reason


def resume(clock: SlaClock, now: datetime) -> None:
    """The deadline moves later by the time paused, so waiting on the customer costs nothing."""
    assert clock.paused_at is not None
    waited = now - clock.paused_at
    clock.due_at += waited
    clock.paused_seconds += waited.total_seconds()
    clock.status, clock.paused_at, clock.pause_reason = "running", None, None
