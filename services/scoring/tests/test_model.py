"""Unit tests of the scoring model (docs/scoring.md): the numbers a manager can recompute."""

import importlib.util
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_shared.contracts.vocabulary import Band, FeedbackType, Severity, SurveyMetric
from scoring import calculation as model

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def new_customer(tier: str = "gold", at: datetime = T0) -> model.Inputs:
    return model.set_profile(model.Inputs(), tier=tier, lifecycle="customer", credit="good", customer_since=at, at=at)


def complaint(inputs: model.Inputs, severity: Severity, at: datetime = T0, fid: str = "f1") -> model.Inputs:
    return model.add_feedback(inputs, FeedbackType.complaint, severity, at, feedback_id=fid)


def test_a_new_customer_starts_healthy_at_the_baseline() -> None:
    score = model.compute(new_customer())
    assert (score.satisfaction, score.loyalty, score.value, score.churn_risk) == (75.0, 0.0, 18.0, 0.0)
    assert (score.health, score.band) == (70.5, Band.healthy)


@pytest.mark.parametrize(
    ("severity", "satisfaction", "churn_risk", "health", "band"),
    [
        # satisfaction 75 - 75 * (1 - exp(-w / 8)) with w = 1, 2, 4, 8 (docs/scoring.md)
        (Severity.low, 66.2, 11.8, 62.5, Band.watch),
        (Severity.medium, 58.4, 22.2, 55.3, Band.watch),
        (Severity.high, 45.5, 39.4, 43.5, Band.at_risk),
        (Severity.critical, 27.6, 65.0, 26.5, Band.critical),
    ],
)
def test_one_complaint_moves_the_scores_by_its_severity(
    severity: Severity, satisfaction: float, churn_risk: float, health: float, band: Band
) -> None:
    score = model.compute(complaint(new_customer(), severity))
    assert (score.satisfaction, score.churn_risk, score.health, score.band) == (satisfaction, churn_risk, health, band)


def test_the_worked_example_of_docs_scoring_md() -> None:
    """A gold customer for a year: a two-year contract renewed once, four orders, then a high
    complaint that is resolved within 6 hours (docs/scoring.md, "Worked example")."""
    since = T0 - timedelta(days=365)
    inputs = new_customer(at=since)
    inputs = model.add_contract(inputs, date(2025, 11, 1), date(2026, 10, 31), False, since)
    inputs = model.add_contract(inputs, date(2026, 11, 1), date(2027, 10, 31), True, T0 - timedelta(days=1))
    for days_ago in (270, 180, 90, 0):
        inputs = model.add_order(inputs, 10_000.0, T0 - timedelta(days=days_ago))
    before = model.compute(inputs)
    assert before.values() == {
        "satisfaction": 75.0,
        "loyalty": 52.8,
        "value": 58.5,
        "churn_risk": 0.0,
        "health": 79.9,
        "band": "healthy",
    }
    inputs = complaint(inputs, Severity.high, T0, "c1")
    after = model.compute(inputs)
    assert after.values() == {
        "satisfaction": 45.5,
        "loyalty": 52.8,
        "value": 58.5,
        "churn_risk": 39.4,
        "health": 52.8,
        "band": "watch",
    }
    resolved = model.compute(model.resolve_case(inputs, "c1", T0 + timedelta(hours=6)))
    assert resolved.values() == {
        "satisfaction": 51.1,
        "loyalty": 52.8,
        "value": 58.4,
        "churn_risk": 24.5,
        "health": 60.5,
        "band": "watch",
    }
    components = after.explanation["scores"]["satisfaction"]["components"]
    assert components["complaint_penalty"] == pytest.approx(-29.51, abs=0.01)


def test_complaints_weigh_far_more_than_praise_or_a_happy_survey() -> None:
    inputs = complaint(new_customer(), Severity.medium)
    inputs = model.add_feedback(inputs, FeedbackType.praise, Severity.low, T0)
    inputs = model.add_feedback(inputs, FeedbackType.survey_response, Severity.low, T0, survey=(SurveyMetric.csat, 5))
    assert model.compute(inputs).satisfaction < 75.0


@pytest.mark.parametrize(
    ("metric", "answer", "fraction"),
    [(SurveyMetric.csat, 5, 1.0), (SurveyMetric.csat, 1, 0.0), (SurveyMetric.nps, 7, 0.7), (SurveyMetric.ces, 1, 1.0)],
)
def test_survey_answers_are_normalised_so_happier_is_higher(metric: SurveyMetric, answer: int, fraction: float) -> None:
    assert model.survey_fraction(metric, answer) == pytest.approx(fraction)


def test_an_unhappy_survey_lowers_and_a_happy_one_raises_satisfaction() -> None:
    def with_survey(answer: int) -> float:
        inputs = model.add_feedback(
            new_customer(), FeedbackType.survey_response, Severity.low, T0, survey=(SurveyMetric.nps, answer)
        )
        return model.compute(inputs).satisfaction

    # survey points = 15 * 1/(1+2) * (2 * answer/10 - 1)
    assert (with_survey(0), with_survey(10)) == (70.0, 80.0)


def test_a_fast_resolution_helps_a_reopen_hurts_and_a_breach_keeps_the_risk_up() -> None:
    open_ = complaint(new_customer(), Severity.high, T0, "c1")
    fast = model.resolve_case(open_, "c1", T0 + timedelta(hours=2))
    slow = model.resolve_case(open_, "c1", T0 + timedelta(days=5))
    assert model.compute(fast).satisfaction > model.compute(slow).satisfaction
    assert model.compute(slow).churn_risk < model.compute(open_).churn_risk  # no longer open
    reopened = model.reopen_case(fast, "c1", Severity.high, T0 + timedelta(days=3))
    assert model.compute(reopened).satisfaction < model.compute(fast).satisfaction
    breached = model.breach_case(open_, "c1", Severity.high, T0 + timedelta(hours=30))
    assert model.compute(breached).churn_risk > model.compute(open_).churn_risk
    assert model.resolve_case(breached, "c1", T0 + timedelta(hours=31)).fast_resolutions == 0  # late is not fast


def test_a_complaint_half_a_life_ago_weighs_half() -> None:
    later = T0 + timedelta(days=90)
    inputs = complaint(complaint(model.Inputs(), Severity.high, T0, "a"), Severity.low, later, "b")
    weight = sum(model.DEFAULT_SCORECARD.severity_weights[k] * v for k, v in inputs.complaints.items())
    assert weight == pytest.approx(4.0 / 2 + 1.0)
    assert inputs.complaint_count == 2


def test_poor_credit_and_a_lifecycle_at_risk_raise_churn_risk() -> None:
    base = model.compute(new_customer()).churn_risk
    risky = model.set_profile(new_customer(), credit="poor", lifecycle="at_risk")
    assert model.compute(risky).churn_risk == base + 25 + 20


def test_falling_activity_raises_churn_risk_and_loses_recency() -> None:
    inputs = new_customer(at=T0 - timedelta(days=400))
    for days_ago in (400, 370, 340, 310):  # monthly orders, then silence
        inputs = model.add_order(inputs, 1000.0, T0 - timedelta(days=days_ago))
    active = model.compute(inputs).explanation["scores"]
    later = model.add_feedback(inputs, FeedbackType.praise, Severity.low, T0)  # moves T, adds no activity
    silent = model.compute(later).explanation["scores"]
    assert active["churn_risk"]["components"]["falling_activity"] == 0
    # 310 days since the last order, against a 30-day rhythm: the full 20 points
    assert silent["churn_risk"]["components"]["falling_activity"] == 20.0
    assert silent["loyalty"]["components"]["recency"] < active["loyalty"]["components"]["recency"]
    assert silent["value"]["components"]["recency"] < active["value"]["components"]["recency"]


def test_the_order_events_arrive_in_does_not_change_the_score() -> None:
    events = [(Severity.high, T0), (Severity.low, T0 + timedelta(days=10)), (Severity.critical, T0 + timedelta(days=3))]
    forward = new_customer()
    for n, (severity, at) in enumerate(events):
        forward = complaint(forward, severity, at, str(n))
    backward = new_customer()
    for n, (severity, at) in reversed(list(enumerate(events))):
        backward = complaint(backward, severity, at, str(n))
    assert model.compute(forward).values() == model.compute(backward).values()


def test_suggestions_and_inquiries_do_not_move_the_scores() -> None:
    inputs = model.add_feedback(model.Inputs(), FeedbackType.suggestion, Severity.low, T0)
    assert inputs == model.Inputs()


def test_inputs_survive_their_json_form() -> None:
    inputs = model.breach_case(complaint(new_customer(), Severity.high, T0, "c1"), "c1", Severity.high, T0)
    inputs = model.add_contract(inputs, date(2026, 1, 1), None, False, T0)
    assert model.Inputs.from_json(inputs.to_json()) == inputs


def test_a_rescore_stores_inputs_of_an_older_shape_in_the_current_one() -> None:
    """A rescore saves the stored inputs back as read only when they have every current field; a
    row written before a field existed gets it (with its default), as an event's save would."""
    from scoring.scores.service import RESCORE_CAUSE_TYPE, build_update

    inputs = model.breach_case(complaint(new_customer(), Severity.high, T0, "c1"), "c1", Severity.high, T0)
    stored = inputs.to_json()
    assert model.current_shape(stored)
    older = {k: v for k, v in stored.items() if k != "open_ended_contract"}
    assert not model.current_shape(older)
    card = model.DEFAULT_SCORECARD
    run = uuid.uuid4()
    for json_form in (stored, older):
        values, _, _ = build_update(
            uuid.uuid4(),
            model.Inputs.from_json(json_form),
            None,
            card,
            cause_id=run,
            cause_type=RESCORE_CAUSE_TYPE,
            last_event_id=None,
            rescore_run_id=run,
            stored_inputs=json_form,
        )
        assert values["inputs"] == stored


def test_merging_two_records_gives_what_one_record_with_all_the_feedback_would_hold() -> None:
    one = complaint(model.Inputs(), Severity.high, T0, "a")
    other = model.add_feedback(
        complaint(model.Inputs(), Severity.low, T0 + timedelta(days=30), "b"), FeedbackType.praise, Severity.low, T0
    )
    merged = model.combine(one, other)
    everything = model.add_feedback(
        complaint(complaint(model.Inputs(), Severity.high, T0, "a"), Severity.low, T0 + timedelta(days=30), "b"),
        FeedbackType.praise,
        Severity.low,
        T0,
    )
    assert merged.as_of == everything.as_of == T0 + timedelta(days=30)
    assert merged.complaints == pytest.approx(everything.complaints)
    assert merged.praise == pytest.approx(everything.praise)
    assert {c.feedback_id for c in merged.open_cases} == {"a", "b"}
    assert model.compute(merged).values() == model.compute(everything).values()


def test_merging_with_a_record_without_inputs_changes_nothing() -> None:
    inputs = complaint(model.Inputs(), Severity.medium, T0)
    assert model.combine(inputs, model.Inputs()) == inputs
    assert model.combine(model.Inputs(), model.Inputs()) == model.Inputs()


def test_a_new_scorecard_recomputes_from_the_same_inputs() -> None:
    inputs = complaint(new_customer(), Severity.high)
    heavier = model.Scorecard.from_config(
        2, {"weights": {"satisfaction": 0.7, "loyalty": 0.0, "value": 0.0, "retention": 0.3}}
    )
    score = model.compute(inputs, heavier)
    assert score.health == round(0.7 * 45.5 + 0.3 * (100 - 39.4), 1)
    assert score.explanation["model_version"] == "scorecard-2"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"weights": {"satisfaction": 0.9}}, "weights"),
        ({"bands": {"healthy": 40.0}}, "bands"),
        ({"severity_weights": {"low": 5.0}}, "severity_weights"),
        ({"half_lives": {"trend_days": 200.0}}, "half_lives.trend_days"),
        ({"satisfaction": {"baseline": 0.0}}, "satisfaction.baseline"),
    ],
)
def test_a_scorecard_that_breaks_a_rule_is_refused(config: dict, field: str) -> None:
    problems = model.validate(model.Scorecard.from_config(2, config))
    assert field in [f for f, _ in problems]


def test_the_default_scorecard_is_valid_and_is_what_the_migration_seeds() -> None:
    assert model.validate(model.DEFAULT_SCORECARD) == []
    path = Path(__file__).parents[1] / "migrations" / "versions" / "0004_scorecards.py"
    spec = importlib.util.spec_from_file_location("m0004", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    # Parameters added after 0004 (time-aware scoring) take their defaults in every stored scorecard.
    added_later = {
        "silence_points",
        "silence_ramp",
        "silence_min_interval_days",
        "silence_health_points",
        "lapse_points",
        "lapse_window_days",
    }
    assert set(model.DEFAULT_SCORECARD.churn) - set(migration.SCORECARD_1["churn"]) == added_later
    assert model.Scorecard.from_config(1, migration.SCORECARD_1) == model.DEFAULT_SCORECARD


# ---- properties ------------------------------------------------------------------------------
SEVERITIES = st.sampled_from(list(Severity))
OFFSETS = st.integers(min_value=-400 * 24, max_value=400 * 24).map(lambda h: T0 + timedelta(hours=h))


@st.composite
def events(draw):
    kind = draw(
        st.sampled_from(
            ["complaint", "praise", "survey", "resolve", "reopen", "breach", "order", "contract", "visit", "profile"]
        )
    )
    return (
        kind,
        draw(OFFSETS),
        draw(SEVERITIES),
        f"f{draw(st.integers(0, 5))}",
        draw(st.floats(min_value=0, max_value=1e6, allow_nan=False)),
        draw(st.sampled_from(list(SurveyMetric))),
        draw(st.integers(0, 10)),
        draw(st.sampled_from(["good", "watch", "poor"])),
        draw(st.sampled_from(["customer", "at_risk", "churned", "won_back"])),
    )


def apply(inputs: model.Inputs, event) -> model.Inputs:
    kind, at, severity, fid, amount, metric, answer, credit, lifecycle = event
    if kind == "complaint":
        return complaint(inputs, severity, at, fid)
    if kind == "praise":
        return model.add_feedback(inputs, FeedbackType.praise, severity, at)
    if kind == "survey":
        answer = min(answer, 5 if metric is SurveyMetric.csat else 7 if metric is SurveyMetric.ces else 10)
        return model.add_feedback(inputs, FeedbackType.survey_response, severity, at, survey=(metric, max(1, answer)))
    if kind == "resolve":
        return model.resolve_case(inputs, fid, at)
    if kind == "reopen":
        return model.reopen_case(inputs, fid, severity, at)
    if kind == "breach":
        return model.breach_case(inputs, fid, severity, at)
    if kind == "order":
        return model.add_order(inputs, amount, at)
    if kind == "contract":
        start = at.date() - timedelta(days=int(amount) % 900)
        return model.add_contract(
            inputs, start, None if answer > 7 else start + timedelta(days=365), answer % 2 == 0, at
        )
    if kind == "visit":
        return model.add_contact(inputs, at)
    return model.set_profile(inputs, credit=credit, lifecycle=lifecycle, at=at)


def replay(history) -> model.Inputs:
    inputs = new_customer(at=T0 - timedelta(days=500))
    for event in history:
        inputs = apply(inputs, event)
    return inputs


@settings(max_examples=150, deadline=None)
@given(st.lists(events(), max_size=30))
def test_property_every_score_stays_within_0_and_100(history) -> None:
    score = model.compute(replay(history))
    for name in model.SCORES:
        assert 0.0 <= getattr(score, name) <= 100.0


@settings(max_examples=150, deadline=None)
@given(st.lists(events(), max_size=30), SEVERITIES, st.integers(0, 48))
def test_property_a_new_complaint_never_raises_satisfaction(history, severity, hours_later) -> None:
    """Compared at the same moment: the customer as they are, and with one more complaint."""
    inputs = replay(history)
    at = (inputs.as_of or T0) + timedelta(hours=hours_later)
    without = model.compute(model.add_contact(inputs, at))  # only moves T to `at`
    with_complaint = model.compute(model.add_contact(complaint(inputs, severity, at, "new"), at))
    assert with_complaint.satisfaction <= without.satisfaction
    assert with_complaint.churn_risk >= without.churn_risk


@settings(max_examples=100, deadline=None)
@given(st.lists(events(), max_size=30))
def test_property_replaying_the_same_events_gives_the_same_scores(history) -> None:
    first, second = replay(history), replay(history)
    assert model.compute(first) == model.compute(second)
    assert model.compute(model.Inputs.from_json(first.to_json())).values() == model.compute(second).values()
