"""Unit tests of the lifecycle rules (docs/domain.md#lifecycle): a pure function of facts, rules and day."""

from datetime import UTC, date, datetime, timedelta

from contacts.lifecycle.rules import DEFAULT_RULES, LifecycleFacts, evaluate
from crm_shared.contracts.vocabulary import LifecycleStage

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def facts(stage: LifecycleStage, *, orders: int = 0, last_order_days: int | None = None, contracts=(), since=None):
    last = NOW - timedelta(days=last_order_days) if last_order_days is not None else None
    return LifecycleFacts(stage=stage, stage_since=since, orders=orders, last_order_at=last, contracts=list(contracts))


def test_a_first_order_converts_a_lead() -> None:
    decision = evaluate(DEFAULT_RULES, facts(LifecycleStage.lead, orders=1, last_order_days=0), NOW)
    assert decision is not None and decision.stage is LifecycleStage.customer
    assert decision.reason == "first order: converted from lead"
    assert evaluate(DEFAULT_RULES, facts(LifecycleStage.prospect), NOW) is None


def test_silence_past_the_threshold_churns_unless_a_contract_is_in_force() -> None:
    silent = facts(LifecycleStage.customer, orders=4, last_order_days=400)
    decision = evaluate(DEFAULT_RULES, silent, NOW)
    assert decision is not None and decision.stage is LifecycleStage.churned
    assert decision.reason == "no order for 400 days (rule: 365)"
    under_contract = facts(
        LifecycleStage.customer, orders=4, last_order_days=400, contracts=[(date(2026, 1, 1), date(2027, 1, 1))]
    )
    assert evaluate(DEFAULT_RULES, under_contract, NOW) is None
    assert evaluate(DEFAULT_RULES, facts(LifecycleStage.customer, orders=4, last_order_days=300), NOW) is None


def test_a_lapsed_contract_churns_after_the_grace_unless_the_customer_still_orders() -> None:
    lapsed = facts(LifecycleStage.customer, contracts=[(date(2025, 1, 1), date(2026, 10, 31))])
    decision = evaluate(DEFAULT_RULES, lapsed, NOW)
    assert decision is not None and decision.stage is LifecycleStage.churned
    assert "contract lapsed on 2026-10-31" in decision.reason
    within_grace = facts(LifecycleStage.customer, contracts=[(date(2025, 1, 1), date(2026, 11, 20))])
    assert evaluate(DEFAULT_RULES, within_grace, NOW) is None
    still_ordering = facts(
        LifecycleStage.customer, orders=1, last_order_days=3, contracts=[(date(2025, 1, 1), date(2026, 10, 31))]
    )
    assert evaluate(DEFAULT_RULES, still_ordering, NOW) is None


def test_a_new_order_after_churn_wins_the_customer_back() -> None:
    churned_at = NOW - timedelta(days=30)
    back = facts(LifecycleStage.churned, orders=5, last_order_days=1, since=churned_at)
    decision = evaluate(DEFAULT_RULES, back, NOW)
    assert decision is not None and decision.stage is LifecycleStage.won_back
    old_orders = facts(LifecycleStage.churned, orders=5, last_order_days=60, since=churned_at)
    assert evaluate(DEFAULT_RULES, old_orders, NOW) is None


def test_each_rule_can_be_switched_off() -> None:
    off = DEFAULT_RULES.model_copy(update={"churn_after_days": None, "convert_on_first_order": False})
    assert evaluate(off, facts(LifecycleStage.customer, orders=4, last_order_days=900), NOW) is None
    assert evaluate(off, facts(LifecycleStage.lead, orders=1, last_order_days=0), NOW) is None


def test_recording_history_never_churns_only_the_sweep_judges_silence() -> None:
    lapsed = facts(LifecycleStage.customer, contracts=[(date(2025, 1, 1), date(2026, 10, 31))])
    assert evaluate(DEFAULT_RULES, lapsed, NOW, churn=False) is None


def test_poor_credit_not_improved_by_the_deadline_is_phased_out() -> None:
    noticed = NOW - timedelta(days=31)
    poor = LifecycleFacts(LifecycleStage.customer, None, 3, NOW, [], credit="poor", credit_noticed_at=noticed)
    decision = evaluate(DEFAULT_RULES, poor, NOW)
    assert decision is not None and decision.stage is LifecycleStage.churned
    assert decision.reason == "phased out: credit still poor 31 days after the notice of 2026-11-04"
    recent = LifecycleFacts(LifecycleStage.customer, None, 3, NOW, [], credit="poor", credit_noticed_at=NOW)
    assert evaluate(DEFAULT_RULES, recent, NOW) is None
    watch = LifecycleFacts(LifecycleStage.customer, None, 3, NOW, [], credit="watch", credit_noticed_at=noticed)
    assert evaluate(DEFAULT_RULES, watch, NOW) is None
