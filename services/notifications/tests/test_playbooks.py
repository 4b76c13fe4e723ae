"""Unit tests of the follow-up rules: which tasks, due when."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_shared.contracts.events import (
    CustomerRef,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    ScoreChangedV1,
    ScoreValues,
)
from crm_shared.contracts.vocabulary import Band, CaseStatus, Channel, FeedbackType, Severity, Tier
from notifications.tasks import playbooks

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def feedback(severity: Severity, tier: Tier, type: FeedbackType = FeedbackType.complaint) -> FeedbackReceivedV1:
    return FeedbackReceivedV1(
        feedback_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        type=type,
        category="service.delivery",
        severity=severity,
        channel=Channel.phone,
        received_at=T0,
        customer=CustomerRef(tier=tier, owner="alice"),
    )


@pytest.mark.parametrize(
    ("severity", "tier", "hours"),
    [
        (Severity.critical, Tier.bronze, 4),
        (Severity.critical, Tier.key, 2),
        (Severity.high, Tier.silver, 24),
        (Severity.high, Tier.gold, 18),
        (Severity.medium, Tier.key, 36),
        (Severity.low, Tier.bronze, 120),
    ],
)
def test_recovery_is_due_sooner_for_severe_complaints_and_important_customers(
    severity: Severity, tier: Tier, hours: float
) -> None:
    [plan, *_] = playbooks.plan_for_feedback(feedback(severity, tier))
    assert plan.playbook == "service_recovery"
    assert plan.due_at == T0 + timedelta(hours=hours)


def test_a_key_account_complaint_also_involves_the_account_manager() -> None:
    plans = playbooks.plan_for_feedback(feedback(Severity.high, Tier.key))
    assert [p.playbook for p in plans] == ["service_recovery", "key_account_complaint"]
    assert plans[1].priority == "urgent"


def test_praise_creates_no_task() -> None:
    assert playbooks.plan_for_feedback(feedback(Severity.low, Tier.key, FeedbackType.praise)) == []


def _change(before: Band | None, after: Band) -> ScoreChangedV1:
    values = ScoreValues(satisfaction=40, health=40, band=after)
    return ScoreChangedV1(
        customer_id=uuid.uuid4(),
        model_version="v",
        previous=ScoreValues(satisfaction=80, health=80, band=before) if before else None,
        current=values,
        band_from=before,
        band_to=after,
        cause_event_id=uuid.uuid4(),
        cause_event_type="crm.feedback.received.v1",
        computed_at=T0,
    )


def test_a_drop_into_at_risk_or_critical_asks_for_a_retention_plan() -> None:
    [plan] = playbooks.plan_for_score_change(_change(Band.watch, Band.at_risk))
    assert plan.type == "retention_plan" and plan.due_at == T0 + timedelta(hours=72)
    [plan] = playbooks.plan_for_score_change(_change(Band.healthy, Band.critical))
    assert plan.priority == "urgent"


def test_no_retention_plan_without_a_drop_into_danger() -> None:
    assert playbooks.plan_for_score_change(_change(Band.healthy, Band.watch)) == []
    assert playbooks.plan_for_score_change(_change(Band.critical, Band.at_risk)) == []
    assert playbooks.plan_for_score_change(_change(None, Band.at_risk)) == []


def _status(current: CaseStatus, previous: CaseStatus | None) -> FeedbackStatusChangedV1:
    return FeedbackStatusChangedV1(
        feedback_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        previous=previous,
        current=current,
        changed_by="alice",
        changed_at=T0,
        severity=Severity.high,
        category="service.delivery",
        customer=CustomerRef(tier=Tier.gold, owner="alice"),
    )


def test_a_resolved_complaint_asks_for_a_satisfaction_follow_up_in_two_days() -> None:
    [plan] = playbooks.plan_for_status_change(_status(CaseStatus.resolved, CaseStatus.in_progress))
    assert plan.playbook == plan.type == "satisfaction_follow_up"
    assert plan.due_at == T0 + timedelta(hours=48)
    assert "high complaint (service.delivery)" in plan.title


@pytest.mark.parametrize("current", [CaseStatus.acknowledged, CaseStatus.in_progress, CaseStatus.closed])
def test_other_status_changes_ask_for_nothing(current: CaseStatus) -> None:
    assert playbooks.plan_for_status_change(_status(current, CaseStatus.received)) == []
