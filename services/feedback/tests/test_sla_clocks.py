"""Unit tests of the SLA clock arithmetic (feedback/sla/clocks.py): deadlines, pauses, restarts.

No server: the clocks are built in memory, the times are given.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_shared.contracts.vocabulary import CaseStatus
from feedback.sla import clocks
from feedback.sla.models import SlaClock
from feedback.sla.schemas import DEFAULT_TARGETS

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def complaint_clocks(severity: str = "critical", tier: str = "key") -> dict[str, SlaClock]:
    made = clocks.new_clocks(
        uuid.uuid4(), severity=severity, tier=tier, received_at=T0, targets=DEFAULT_TARGETS, policy_version=0
    )
    return {c.clock: c for c in made}


def test_a_complaint_gets_both_clocks_due_at_their_policy_targets() -> None:
    made = complaint_clocks("critical", "key")
    assert set(made) == {"first_response", "resolution"}
    # Version 0: a key account's critical complaint is answered within 15 minutes, resolved within 4 hours.
    assert made["first_response"].due_at == T0 + timedelta(minutes=15)
    assert made["resolution"].due_at == T0 + 4 * HOUR
    assert all(c.status == "running" and c.started_at == T0 and c.restarts == 0 for c in made.values())


@pytest.mark.parametrize(
    ("severity", "tier", "hours"), [("low", "bronze", 48), ("high", "gold", 1), ("medium", "silver", 8)]
)
def test_first_response_target_follows_severity_and_tier(severity: str, tier: str, hours: float) -> None:
    first = complaint_clocks(severity, tier)["first_response"]
    assert first.target_seconds == hours * 3600
    assert first.due_at - first.started_at == hours * HOUR


def test_leaving_received_meets_first_response_only() -> None:
    made = complaint_clocks()
    clocks.apply_transition(made, CaseStatus.received.value, CaseStatus.acknowledged.value, T0 + timedelta(minutes=5))
    assert (made["first_response"].status, made["first_response"].met_at) == ("met", T0 + timedelta(minutes=5))
    assert (made["resolution"].status, made["resolution"].met_at) == ("running", None)


def test_first_contact_resolution_meets_both_clocks() -> None:
    made = complaint_clocks()
    clocks.apply_transition(made, CaseStatus.received.value, CaseStatus.resolved.value, T0 + HOUR)
    assert all(c.status == "met" and c.met_at == T0 + HOUR for c in made.values())


def test_a_late_answer_keeps_breached_and_records_when_it_was_met() -> None:
    first = complaint_clocks()["first_response"]
    first.status, first.breached_at = "breached", first.due_at
    clocks.meet(first, T0 + HOUR)
    assert (first.status, first.breached_at, first.met_at) == ("breached", first.due_at, T0 + HOUR)


def test_reopening_restarts_resolution_with_its_full_target() -> None:
    made = complaint_clocks()
    clocks.apply_transition(made, CaseStatus.in_progress.value, CaseStatus.resolved.value, T0 + HOUR)
    reopened_at = T0 + 10 * HOUR
    clocks.apply_transition(made, CaseStatus.resolved.value, CaseStatus.in_progress.value, reopened_at)
    resolution = made["resolution"]
    assert (resolution.status, resolution.started_at, resolution.met_at) == ("running", reopened_at, None)
    assert resolution.due_at == reopened_at + 4 * HOUR
    assert resolution.restarts == 1
    # First response was met once and for all.
    assert made["first_response"].met_at == T0 + HOUR


def test_closing_a_resolved_case_changes_no_clock() -> None:
    made = complaint_clocks()
    clocks.apply_transition(made, CaseStatus.in_progress.value, CaseStatus.resolved.value, T0 + HOUR)
    clocks.apply_transition(made, CaseStatus.resolved.value, CaseStatus.closed.value, T0 + 2 * HOUR)
    assert made["resolution"].met_at == T0 + HOUR
    assert made["resolution"].restarts == 0


def test_resume_moves_the_deadline_later_by_the_time_paused() -> None:
    resolution = complaint_clocks()["resolution"]
    due = resolution.due_at
    clocks.pause(resolution, T0 + HOUR, "waiting for the customer's invoice")
    assert (resolution.status, resolution.pause_reason) == ("paused", "waiting for the customer's invoice")
    clocks.resume(resolution, T0 + 3 * HOUR)
    assert resolution.due_at == due + 2 * HOUR
    assert resolution.paused_seconds == 2 * 3600
    assert (resolution.status, resolution.paused_at, resolution.pause_reason) == ("running", None, None)


def test_pauses_add_up() -> None:
    resolution = complaint_clocks()["resolution"]
    due = resolution.due_at
    for start in (1, 5):
        clocks.pause(resolution, T0 + start * HOUR, "waiting")
        clocks.resume(resolution, T0 + (start + 1) * HOUR)
    assert resolution.due_at == due + 2 * HOUR
    assert resolution.paused_seconds == 2 * 3600


def test_meeting_a_paused_clock_counts_the_pause_and_ends_it() -> None:
    resolution = complaint_clocks()["resolution"]
    clocks.pause(resolution, T0 + HOUR, "waiting")
    clocks.meet(resolution, T0 + 90 * timedelta(minutes=1))
    assert (resolution.status, resolution.paused_at, resolution.pause_reason) == ("met", None, None)
    assert resolution.paused_seconds == 30 * 60


def test_an_inquiry_is_timed_by_type_and_tier_and_answering_it_meets_resolution() -> None:
    made = {
        c.clock: c
        for c in clocks.new_clocks(
            uuid.uuid4(),
            severity="low",
            tier="gold",
            received_at=T0,
            targets=DEFAULT_TARGETS,
            policy_version=0,
            type="inquiry",
        )
    }
    # Severity is a complaint's measure: a gold inquiry is answered first within 2 hours, done within 24.
    assert (made["first_response"].due_at, made["resolution"].due_at) == (T0 + 2 * HOUR, T0 + 24 * HOUR)
    inquiry_done = frozenset({"answered", "closed"})
    clocks.apply_transition(made, "received", "answered", T0 + HOUR, inquiry_done)
    assert all(c.status == "met" for c in made.values())
    # A follow-up question reopens it: the resolution clock starts again.
    clocks.apply_transition(made, "answered", "in_progress", T0 + 3 * HOUR, inquiry_done)
    assert (made["resolution"].status, made["resolution"].restarts) == ("running", 1)


def test_a_suggestion_under_review_is_not_done_and_a_decision_is() -> None:
    made = {
        c.clock: c
        for c in clocks.new_clocks(
            uuid.uuid4(),
            severity="low",
            tier="key",
            received_at=T0,
            targets=DEFAULT_TARGETS,
            policy_version=0,
            type="suggestion",
        )
    }
    decided = frozenset({"accepted", "declined", "delivered"})
    clocks.apply_transition(made, "received", "under_review", T0 + HOUR, decided)
    assert (made["first_response"].status, made["resolution"].status) == ("met", "running")
    clocks.apply_transition(made, "under_review", "declined", T0 + 2 * HOUR, decided)
    assert made["resolution"].status == "met"
