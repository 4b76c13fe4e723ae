"""Unit: the indicator formulas, periods, segment moves and the alert state machine (no servers)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from scoring.indicators import formulas
from scoring.indicators.formulas import COUNTERS, Membership, Segments, Threshold, crossing


def counters(**values: float) -> dict[str, float]:
    return {**dict.fromkeys(COUNTERS, 0), **values}


def test_periods_are_utc_calendar_buckets() -> None:
    at = datetime(2026, 12, 2, 23, 30, tzinfo=UTC)  # a Wednesday
    assert formulas.period_start("day", at) == datetime(2026, 12, 2, tzinfo=UTC)
    assert formulas.period_start("week", at) == datetime(2026, 11, 30, tzinfo=UTC)
    assert formulas.period_start("month", at) == datetime(2026, 12, 1, tzinfo=UTC)
    assert formulas.period_end("month", datetime(2026, 12, 1, tzinfo=UTC)) == datetime(2027, 1, 1, tzinfo=UTC)
    assert formulas.period_end("month", datetime(2027, 2, 1, tzinfo=UTC)) == datetime(2027, 3, 1, tzinfo=UTC)
    assert formulas.period_end("week", datetime(2026, 11, 30, tzinfo=UTC)) == datetime(2026, 12, 7, tzinfo=UTC)


def test_one_event_touches_five_dimensions_times_three_periods() -> None:
    keys = formulas.counter_keys(Segments.of("key", "EMEA", None, "alice"), datetime(2026, 12, 2, tzinfo=UTC))
    assert len(keys) == 15
    assert ("industry", "unknown", "day", datetime(2026, 12, 2, tzinfo=UTC)) in keys
    assert ("all", "", "month", datetime(2026, 12, 1, tzinfo=UTC)) in keys


def test_service_quality_formulas() -> None:
    c = counters(first_responses=2, first_response_seconds=3 * 3600, resolutions=1, resolution_seconds=36_000)
    assert formulas.first_response_hours(c) == (1.5, 2)
    assert formulas.resolution_hours(c) == (10.0, 1)
    assert formulas.sla_attainment(counters(sla_met=9, sla_breached=3)) == (75.0, 12)
    assert formulas.first_response_hours(counters()) == (None, 0)
    assert formulas.sla_attainment(counters()) == (None, 0)


def test_recovery_formulas_reopen_rate_and_time_to_compensation() -> None:
    assert formulas.reopen_rate(counters(resolutions=20, reopens=3)) == (15.0, 20)
    assert formulas.reopen_rate(counters(reopens=1)) == (None, 0)
    paid = counters(compensations_paid=2, compensation_days=9.0)
    assert formulas.time_to_compensation_days(paid) == (4.5, 2)
    assert formulas.time_to_compensation_days(counters()) == (None, 0)
    # Whole days from the complaint's UTC day: a late-evening complaint paid next morning is one day.
    late_evening = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    assert formulas.compensation_days(late_evening, date(2026, 12, 2)) == 1.0
    assert formulas.compensation_days(late_evening, date(2026, 12, 1)) == 0.0


def test_satisfaction_formulas() -> None:
    answers = [formulas.survey_deltas("csat", s) for s in (5, 4, 3, 1)]
    c = counters(**{k: sum(a[k] for a in answers) for k in answers[0]})
    assert formulas.csat(c) == (50.0, 4)  # share of 4-5 answers
    assert formulas.csat_average(c) == (3.25, 4)
    nps_answers = [formulas.survey_deltas("nps", s) for s in (10, 9, 8, 7, 6, 0, 10, 3)]
    c = counters(**{k: sum(a[k] for a in nps_answers) for k in nps_answers[0]})
    # promoters 3/8, detractors 3/8 -> 0
    assert formulas.nps(c) == (0.0, 8)
    c = counters(nps_answers=4, nps_promoters=1, nps_detractors=3)
    assert formulas.nps(c) == (-50.0, 4)
    assert formulas.survey_deltas("ces", 5) == {}
    # 3 complaints among the 40 customers at the start of the period + 10 who joined during it
    assert formulas.complaint_rate_per_100(counters(complaints=3, customers_at_start=40, customers_joined=10)) == (
        6.0,
        50,
    )
    assert formulas.complaint_rate_per_100(counters(complaints=2)) == (None, 0)


def test_retention_and_value_formulas() -> None:
    assert formulas.retention_rate(counters(customers_at_start=95, customers_joined=5, customers_churned=8)) == (
        92.0,
        100,
    )
    assert formulas.repeat_purchase_rate(counters(buyers=8, repeat_buyers=2)) == (25.0, 8)
    value = counters(orders=3, order_value=1000.0, key_order_value=250.0)
    assert formulas.key_account_value_share(value) == (25.0, 3)
    assert formulas.key_account_value_share(counters()) == (None, 0)


def test_a_customers_orders_make_one_buyer_then_one_repeat_buyer() -> None:
    assert [formulas.order_buyer_deltas(n) for n in (1, 2, 3)] == [(1, 0), (0, 1), (0, 0)]


def test_touched_lists_only_the_indicators_an_event_moved() -> None:
    assert formulas.touched({"complaints": 1}) == ["complaint_rate_per_100"]
    assert set(formulas.touched({"nps_answers": 1, "nps_promoters": 0})) == {"nps"}
    assert set(formulas.touched({"customers_joined": 1})) == {"complaint_rate_per_100", "retention_rate"}
    assert formulas.touched({"complaints": 0}) == []


def member(stage: str, owner: str = "alice", region: str = "EMEA") -> Membership:
    return Membership(Segments.of("gold", region, "retail", owner), stage)


def test_a_new_customer_joins_every_segment() -> None:
    changes = formulas.membership_changes(None, member("customer"))
    assert {(c.dimension, c.segment, c.gauge, c.joined, c.churned) for c in changes} == {
        ("all", "", 1, 1, 0),
        ("tier", "gold", 1, 1, 0),
        ("region", "EMEA", 1, 1, 0),
        ("industry", "retail", 1, 1, 0),
        ("owner", "alice", 1, 1, 0),
    }
    assert formulas.membership_changes(None, member("lead")) == []  # a lead is no customer yet


def test_churn_counts_where_the_customer_was_and_a_move_is_no_churn() -> None:
    churn = formulas.membership_changes(member("customer"), member("churned"))
    assert len(churn) == 5 and all((c.gauge, c.churned) == (-1, 1) for c in churn)
    moved = formulas.membership_changes(member("customer", owner="alice"), member("customer", owner="bob"))
    assert {(c.segment, c.gauge, c.joined, c.churned) for c in moved} == {("alice", -1, 0, 0), ("bob", 1, 1, 0)}
    assert formulas.membership_changes(member("customer"), member("at_risk")) == []
    won_back = formulas.membership_changes(member("churned"), member("won_back"))
    assert all((c.gauge, c.joined) == (1, 1) for c in won_back) and len(won_back) == 5
    merged_away = formulas.membership_changes(member("customer"), None)
    assert all((c.gauge, c.churned) == (-1, 0) for c in merged_away)


ABOVE_5 = Threshold(5, "above", min_sample=10)


def test_crossing_fires_once_and_not_again_while_crossed() -> None:
    assert crossing(False, 6.0, 10, ABOVE_5) == "crossed"
    assert crossing(True, 7.5, 12, ABOVE_5) is None  # still outside: no repeat
    assert crossing(True, 5.0, 12, ABOVE_5) == "recovered"  # at the threshold is inside
    assert crossing(False, 4.0, 12, ABOVE_5) is None


def test_below_threshold_and_minimum_sample() -> None:
    below_0 = Threshold(0, "below", min_sample=5)
    assert crossing(False, -20.0, 4, below_0) is None  # too small a sample decides nothing
    assert crossing(True, 40.0, 4, below_0) is None
    assert crossing(False, -20.0, 5, below_0) == "crossed"
    assert crossing(True, 0.0, 5, below_0) == "recovered"
    assert crossing(False, None, 50, below_0) is None


def test_a_disabled_threshold_neither_opens_nor_closes() -> None:
    off = Threshold(5, "above", enabled=False)
    assert crossing(False, 50.0, 100, off) is None
    assert crossing(True, 0.0, 100, off) is None


@pytest.mark.parametrize("name", list(formulas.INDICATORS))
def test_every_indicator_has_a_sane_default_inside_its_range(name: str) -> None:
    indicator, default = formulas.INDICATORS[name], formulas.DEFAULT_THRESHOLDS[name]
    assert indicator.low <= default.value <= indicator.high
    assert indicator.compute(counters())[0] is None  # no sample, no value


T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def test_first_response_and_resolution_are_measured_once_from_arrival() -> None:
    clocks = formulas.ComplaintClocks(received_at=T0)
    clocks, acknowledged = formulas.status_changed(clocks, "received", "acknowledged", False, hours(2))
    assert acknowledged == {"first_responses": 1, "first_response_seconds": 7200.0, "sla_met": 1}
    clocks, working = formulas.status_changed(clocks, "acknowledged", "in_progress", False, hours(3))
    assert working == {}
    clocks, resolved = formulas.status_changed(clocks, "in_progress", "resolved", False, hours(10))
    assert resolved == {"resolutions": 1, "resolution_seconds": 36_000.0, "sla_met": 1}
    clocks, closed = formulas.status_changed(clocks, "resolved", "closed", False, hours(11))
    assert closed == {}  # closing after resolving measures nothing again


def test_first_contact_resolution_meets_both_clocks_at_once() -> None:
    _, deltas = formulas.status_changed(
        formulas.ComplaintClocks(received_at=T0), "received", "resolved", False, hours(1)
    )
    assert deltas == {
        "first_responses": 1,
        "first_response_seconds": 3600.0,
        "resolutions": 1,
        "resolution_seconds": 3600.0,
        "sla_met": 2,
    }


def test_a_breached_clock_counts_breached_once_and_never_met() -> None:
    clocks = formulas.ComplaintClocks(received_at=T0)
    clocks, breach = formulas.sla_breached(clocks, "first_response")
    assert breach == {"sla_breached": 1}
    assert formulas.sla_breached(clocks, "first_response")[1] == {}
    clocks, late = formulas.status_changed(clocks, "received", "acknowledged", False, hours(30))
    assert late == {"first_responses": 1, "first_response_seconds": 30 * 3600.0}  # timed, but not met


def test_a_reopened_case_runs_a_new_resolution_clock() -> None:
    clocks = formulas.ComplaintClocks(received_at=T0)
    clocks, _ = formulas.status_changed(clocks, "received", "resolved", False, hours(1))
    clocks, reopened = formulas.status_changed(clocks, "resolved", "in_progress", True, hours(5))
    assert reopened == {"reopens": 1} and clocks.resolution_sla is None
    clocks, breach = formulas.sla_breached(clocks, "resolution")
    assert breach == {"sla_breached": 1}
    _, resolved_again = formulas.status_changed(clocks, "in_progress", "resolved", False, hours(80))
    assert resolved_again == {}  # time to resolution stays the first one; the clock was breached
