"""Unit: the tier rules as a pure function (no servers)."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from contacts.tiers.rules import (
    DEFAULT_RULES,
    TierFacts,
    continuous_months,
    evaluate,
    months_before,
    months_between,
)
from contacts.tiers.schemas import TierRules
from crm_shared.contracts.vocabulary import Tier

TODAY = date(2025, 6, 15)


def facts(volume: str = "0", contracts=(), potential: str | None = None, strategic: bool = False) -> TierFacts:
    return TierFacts(
        order_volume=Decimal(volume),
        contracts=list(contracts),
        potential=Decimal(potential) if potential is not None else None,
        strategic=strategic,
    )


def test_two_back_to_back_seven_month_contracts_and_large_orders_make_a_key_account() -> None:
    contracts = [(date(2024, 12, 1), date(2025, 6, 30)), (date(2024, 5, 1), date(2024, 11, 30))]
    decision = evaluate(DEFAULT_RULES, facts("180000", contracts), TODAY)
    assert decision.tier is Tier.key
    assert decision.reason == "continuous contracts for 14 months and 180,000 ordered in 12 months"


def test_continuous_contracts_without_the_order_volume_are_not_enough() -> None:
    contracts = [(date(2024, 1, 1), date(2025, 12, 31))]
    decision = evaluate(DEFAULT_RULES, facts("60000", contracts), TODAY)
    assert decision.tier is Tier.gold
    assert decision.reason == "60,000 ordered in 12 months (gold from 50,000)"


def test_a_gap_between_contracts_breaks_the_run_and_an_expired_run_counts_nothing() -> None:
    gap = [(date(2024, 5, 1), date(2024, 11, 29)), (date(2024, 12, 1), date(2025, 6, 30))]
    assert continuous_months(gap, TODAY) == 7
    expired = [(date(2023, 1, 1), date(2025, 5, 31))]
    assert continuous_months(expired, TODAY) == 0
    assert evaluate(DEFAULT_RULES, facts("500000", expired), TODAY).tier is Tier.gold


def test_an_open_ended_contract_counts_until_today_and_overlaps_merge() -> None:
    assert continuous_months([(date(2024, 6, 15), None)], TODAY) == 12
    overlapping = [(date(2024, 1, 1), date(2024, 9, 30)), (date(2024, 6, 1), None)]
    assert continuous_months(overlapping, TODAY) == 17
    assert continuous_months([(date(2025, 7, 1), date(2027, 6, 30))], TODAY) == 0  # not in force yet


def test_potential_or_the_strategic_flag_alone_make_a_key_account() -> None:
    assert evaluate(DEFAULT_RULES, facts(potential="1000000"), TODAY).reason == "annual potential of 1,000,000"
    strategic = evaluate(DEFAULT_RULES, facts(potential="999999.50", strategic=True), TODAY)
    assert (strategic.tier, strategic.reason) == (Tier.key, "strategic account")


@pytest.mark.parametrize(
    ("volume", "tier"),
    [
        ("0", Tier.bronze),
        ("9999.99", Tier.bronze),
        ("10000", Tier.silver),
        ("49999", Tier.silver),
        ("50000", Tier.gold),
    ],
)
def test_below_key_the_order_volume_sets_gold_silver_or_bronze(volume: str, tier: Tier) -> None:
    assert evaluate(DEFAULT_RULES, facts(volume), TODAY).tier is tier


def test_thresholds_are_the_rules_fields() -> None:
    strict = DEFAULT_RULES.model_copy(update={"key_contract_months": 24, "gold_order_volume": Decimal("200000")})
    contracts = [(date(2024, 5, 1), date(2025, 6, 30))]
    assert evaluate(strict, facts("180000", contracts), TODAY).tier is Tier.silver


def test_rules_refuse_gold_below_silver_and_unknown_fields() -> None:
    body = DEFAULT_RULES.model_dump(mode="json")
    with pytest.raises(ValidationError) as low:
        TierRules.model_validate(body | {"gold_order_volume": "5000"})
    assert low.value.errors()[0]["loc"] == ("gold_order_volume",)
    with pytest.raises(ValidationError):
        TierRules.model_validate(body | {"platinum_order_volume": "1"})


def test_month_arithmetic_clamps_to_the_end_of_the_month() -> None:
    assert months_between(date(2024, 1, 31), date(2024, 3, 1)) == 1
    assert months_between(date(2024, 1, 1), date(2024, 8, 1)) == 7
    assert months_before(datetime(2025, 3, 31, 12, tzinfo=UTC), 1) == datetime(2025, 2, 28, 12, tzinfo=UTC)
    assert months_before(datetime(2025, 1, 15, tzinfo=UTC), 12) == datetime(2024, 1, 15, tzinfo=UTC)
