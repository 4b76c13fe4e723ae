"""The lifecycle rules as a pure function: the same facts, rules and day always give the same stage."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from contacts.lifecycle.schemas import LifecycleRules
from crm_shared.contracts.vocabulary import LifecycleStage

DEFAULT_RULES = LifecycleRules(
    convert_on_first_order=True,
    win_back_on_order=True,
    churn_after_days=365,
    churn_on_lapsed_contract=True,
    lapse_grace_days=30,
    phase_out_after_days=30,
)
ACTIVE = {LifecycleStage.customer, LifecycleStage.at_risk, LifecycleStage.won_back}


@dataclass(frozen=True, slots=True)
class LifecycleFacts:
    stage: LifecycleStage
    stage_since: datetime | None  # when the stage was last set (by a person or the rules)
    orders: int
    last_order_at: datetime | None
    contracts: Sequence[tuple[date, date | None]]  # (starts_on, ends_on or None if open-ended)
    credit: str = "good"
    credit_noticed_at: datetime | None = None  # when the credit left `good`


@dataclass(frozen=True, slots=True)
class LifecycleDecision:
    stage: LifecycleStage
    reason: str


def _in_force(contracts: Sequence[tuple[date, date | None]], today: date) -> bool:
    return any(start <= today and (end is None or end >= today) for start, end in contracts)


def evaluate(
    rules: LifecycleRules, facts: LifecycleFacts, now: datetime, *, churn: bool = True
) -> LifecycleDecision | None:
    """The stage the rules move the customer to, with the reason in words; None to stay.
    `churn=False` when an order or contract was just recorded: engagement (even history being
    entered, such as an old contract) never churns a customer; silence is the sweep's to judge."""
    today = now.date()
    stage = facts.stage
    if stage in (LifecycleStage.lead, LifecycleStage.prospect) and rules.convert_on_first_order:
        if facts.orders or facts.contracts:
            what = "first order" if facts.orders else "first contract"
            return LifecycleDecision(LifecycleStage.customer, f"{what}: converted from {stage.value}")
        return None
    if stage is LifecycleStage.churned and rules.win_back_on_order:
        since = facts.stage_since
        if facts.last_order_at is not None and (since is None or facts.last_order_at > since):
            return LifecycleDecision(
                LifecycleStage.won_back, f"new order on {facts.last_order_at.date().isoformat()} after churning"
            )
        return None
    if not churn or stage not in ACTIVE:
        return None
    if rules.phase_out_after_days is not None and facts.credit == "poor" and facts.credit_noticed_at is not None:
        noticed = facts.credit_noticed_at
        if now >= noticed + timedelta(days=rules.phase_out_after_days):
            return LifecycleDecision(
                LifecycleStage.churned,
                f"phased out: credit still poor {(now - noticed).days} days after the notice of "
                f"{noticed.date().isoformat()}",
            )
    if _in_force(facts.contracts, today):
        return None
    if rules.churn_after_days is not None and facts.last_order_at is not None:
        silent = (now - facts.last_order_at).days
        if silent >= rules.churn_after_days:
            return LifecycleDecision(
                LifecycleStage.churned, f"no order for {silent} days (rule: {rules.churn_after_days})"
            )
    ends = [end for _, end in facts.contracts if end is not None]
    if rules.churn_on_lapsed_contract and ends and len(ends) == len(facts.contracts):
        ended = max(ends)
        ordered_since = facts.last_order_at is not None and facts.last_order_at.date() > ended
        if not ordered_since and today > ended + timedelta(days=rules.lapse_grace_days):
            return LifecycleDecision(
                LifecycleStage.churned,
                f"contract lapsed on {ended.isoformat()} with no renewal and no order since "
                f"(grace {rules.lapse_grace_days} days)",
            )
    return None
