"""Unit tests of time-aware scoring (docs/scoring.md, "Time-aware scoring"): a customer who goes
silent drifts without any new event; the clock is a parameter (`advance`), never the wall clock."""

from datetime import UTC, date, datetime, time, timedelta

from crm_shared.contracts.vocabulary import Band
from scoring import calculation as model
from scoring.scores.daily import schedule_key

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def key_account_ordering_monthly(contract_ends: date | None) -> model.Inputs:
    inputs = model.set_profile(
        model.Inputs(), tier="key", lifecycle="customer", credit="good", customer_since=T0, at=T0
    )
    for days in (90, 60, 30):
        inputs = model.add_order(inputs, 40_000, T0 - timedelta(days=days))
    if contract_ends is not None:
        inputs = model.add_contract(inputs, date(2025, 1, 1), contract_ends, False, T0)
    return inputs


def test_a_silent_key_account_drifts_to_at_risk_with_the_reasons_in_words() -> None:
    inputs = key_account_ordering_monthly(contract_ends=(T0 + timedelta(days=40)).date())
    assert model.compute(inputs).band is Band.healthy

    after_a_month = model.compute(model.advance(inputs, T0 + timedelta(days=30)))
    assert after_a_month.band is Band.watch
    assert after_a_month.explanation["drift"] == [
        "no order for 60 days, 2.0 times the usual 30-day ordering rhythm (+15.0 churn risk)",
        "the contract ends on 2027-01-14, in 10 days, with no renewal yet (+16.7 churn risk)",
    ]

    after_two_months = model.compute(model.advance(inputs, T0 + timedelta(days=60)))
    assert (after_two_months.health, after_two_months.band) == (44.4, Band.at_risk)
    churn = after_two_months.explanation["scores"]["churn_risk"]["components"]
    assert (churn["order_silence"], churn["contract_lapse"]) == (30.0, 20.0)
    assert after_two_months.explanation["scores"]["health"]["components"]["silence"] == -15.0
    assert "the contract lapsed on 2027-01-14 without a renewal" in after_two_months.explanation["summary"]


def test_silence_within_the_customers_own_rhythm_is_no_risk() -> None:
    inputs = model.set_profile(model.Inputs(), tier="gold", customer_since=T0, at=T0)
    for days in (360, 180, 0):  # orders twice a year
        inputs = model.add_order(inputs, 10_000, T0 - timedelta(days=days))
    four_months_later = model.compute(model.advance(inputs, T0 + timedelta(days=120)))
    assert four_months_later.explanation["scores"]["churn_risk"]["components"]["order_silence"] == 0.0
    assert four_months_later.explanation["drift"] == []


def test_a_customer_who_keeps_ordering_after_the_contract_ended_is_not_lapsing() -> None:
    inputs = key_account_ordering_monthly(contract_ends=(T0 - timedelta(days=45)).date())
    assert model.compute(inputs).explanation["scores"]["churn_risk"]["components"]["contract_lapse"] == 0.0


def test_advancing_to_a_time_before_the_latest_event_changes_nothing() -> None:
    inputs = key_account_ordering_monthly(contract_ends=None)
    assert model.advance(inputs, T0 - timedelta(days=1)) is inputs
    later = model.advance(inputs, T0 + timedelta(days=10))
    assert later.as_of == T0 + timedelta(days=10)
    assert later.revenue < inputs.revenue  # sums faded; counters and times kept
    assert (later.order_count, later.first_order_at) == (3, T0 - timedelta(days=90))


def test_the_ordering_rhythm_survives_storage_and_merges() -> None:
    inputs = key_account_ordering_monthly(contract_ends=None)
    assert model.Inputs.from_json(inputs.to_json()) == inputs
    other = model.add_order(model.Inputs(), 5_000, T0 - timedelta(days=200))
    assert model.combine(inputs, other).first_order_at == T0 - timedelta(days=200)


def test_the_daily_run_is_due_once_a_day_from_its_time() -> None:
    at = time(2, 0)
    assert schedule_key(datetime(2026, 12, 5, 1, 59, tzinfo=UTC), at) is None
    assert schedule_key(datetime(2026, 12, 5, 2, 0, tzinfo=UTC), at) == "daily:2026-12-05"
    assert schedule_key(datetime(2026, 12, 5, 23, 0, tzinfo=UTC), at) == "daily:2026-12-05"
    assert schedule_key(datetime(2026, 12, 6, 2, 30, tzinfo=UTC), at) == "daily:2026-12-06"
