"""Which follow-up work an event calls for: pure rules, no I/O.

Service recovery (DOMAIN.md): a dissatisfied customer is contacted fast, faster the more
severe the complaint and the more important the customer; key accounts also get their account
manager involved; a customer whose health falls into at_risk or critical gets a retention plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crm_shared.contracts.events import FeedbackReceivedV1, FeedbackStatusChangedV1, ScoreChangedV1
from crm_shared.contracts.vocabulary import Band, CaseStatus, FeedbackType, Severity, Tier

# Hours to the first recovery contact, by severity; scaled down for more important tiers.
RECOVERY_HOURS = {Severity.critical: 4, Severity.high: 24, Severity.medium: 72, Severity.low: 120}
TIER_FACTOR = {Tier.key: 0.5, Tier.gold: 0.75, Tier.silver: 1.0, Tier.bronze: 1.0}
PRIORITY = {Severity.critical: "urgent", Severity.high: "high", Severity.medium: "normal", Severity.low: "low"}
RETENTION_HOURS = {Band.at_risk: 72, Band.critical: 24}
# A resolved complaint gets a satisfaction follow-up after the fix had time to show (DOMAIN.md:
# return visits/calls after service); the answer reopens the complaint if it did not work.
FOLLOW_UP_HOURS = 48


@dataclass(frozen=True, slots=True)
class TaskPlan:
    playbook: str
    type: str
    title: str
    priority: str
    due_at: datetime
    assignee: str | None  # None: the customer's owner, or the fallback queue


def recovery_due(received_at: datetime, severity: Severity, tier: Tier) -> datetime:
    return received_at + timedelta(hours=RECOVERY_HOURS[severity] * TIER_FACTOR[tier])


def plan_for_feedback(feedback: FeedbackReceivedV1) -> list[TaskPlan]:
    if feedback.type is not FeedbackType.complaint:
        return []
    tier = feedback.customer.tier
    category = f" ({feedback.category})" if feedback.category else ""
    plans = [
        TaskPlan(
            playbook="service_recovery",
            type="service_recovery",
            title=f"Call back about a {feedback.severity.value} complaint{category}",
            priority=PRIORITY[feedback.severity],
            due_at=recovery_due(feedback.received_at, feedback.severity, tier),
            assignee=None,
        )
    ]
    if tier is Tier.key:
        plans.append(
            TaskPlan(
                playbook="key_account_complaint",
                type="key_account_review",
                title=f"Key account complaint{category}: account manager to review and contact",
                priority="urgent" if feedback.severity in (Severity.high, Severity.critical) else "high",
                due_at=feedback.received_at + timedelta(hours=24),
                assignee=None,
            )
        )
    return plans


def plan_for_score_change(change: ScoreChangedV1) -> list[TaskPlan]:
    dropped = change.band_from is not None and change.band_to.rank > change.band_from.rank
    if not dropped or change.band_to not in RETENTION_HOURS:
        return []
    return [
        TaskPlan(
            playbook="band_drop_retention",
            type="retention_plan",
            title=f"Health fell from {change.band_from.value} to {change.band_to.value}: agree a retention plan",
            priority="urgent" if change.band_to is Band.critical else "high",
            due_at=change.computed_at + timedelta(hours=RETENTION_HOURS[change.band_to]),
            assignee=None,
        )
    ]


def plan_for_status_change(change: FeedbackStatusChangedV1) -> list[TaskPlan]:
    """Closed loop: every time a complaint is resolved (again, after a reopen, too), ask the customer."""
    if change.current is not CaseStatus.resolved:
        return []
    category = f" ({change.category})" if change.category else ""
    return [
        TaskPlan(
            playbook="satisfaction_follow_up",
            type="satisfaction_follow_up",
            title=f"Ask whether the resolved {change.severity.value} complaint{category} was put right "
            "(satisfaction follow-up)",
            priority="normal",
            due_at=change.changed_at + timedelta(hours=FOLLOW_UP_HOURS),
            assignee=None,
        )
    ]
