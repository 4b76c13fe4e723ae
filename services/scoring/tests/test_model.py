"""Unit tests of the scoring model (docs/scoring.md): the numbers a manager can recompute."""

from datetime import UTC, datetime, timedelta

import pytest

from crm_shared.contracts.vocabulary import Band, FeedbackType, Severity
from scoring.scores import model

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def complaint(inputs: model.Inputs, severity: Severity, at: datetime = T0) -> model.Inputs:
    return model.add_feedback(inputs, FeedbackType.complaint, severity, at)


def test_a_new_customer_starts_healthy_at_the_baseline() -> None:
    score = model.compute(model.Inputs())
    assert score.satisfaction == 75.0 and score.band is Band.healthy


@pytest.mark.parametrize(
    ("severity", "expected", "band"),
    [
        # 75 - 75 * (1 - exp(-w / 8)) with w = 1, 2, 4, 8
        (Severity.low, 66.2, Band.watch),
        (Severity.medium, 58.4, Band.watch),
        (Severity.high, 45.5, Band.at_risk),
        (Severity.critical, 27.6, Band.critical),
    ],
)
def test_one_complaint_moves_the_score_by_its_severity(severity: Severity, expected: float, band: Band) -> None:
    score = model.compute(complaint(model.Inputs(), severity))
    assert score.satisfaction == expected
    assert score.band is band


def test_complaints_weigh_far_more_than_praise() -> None:
    one_each = model.add_feedback(complaint(model.Inputs(), Severity.medium), FeedbackType.praise, Severity.low, T0)
    assert model.compute(one_each).satisfaction < 75.0


def test_a_complaint_half_a_life_ago_weighs_half() -> None:
    later = T0 + timedelta(days=model.HALF_LIFE_DAYS)
    inputs = complaint(complaint(model.Inputs(), Severity.high, T0), Severity.low, later)
    assert inputs.complaint_weight == pytest.approx(4.0 / 2 + 1.0)
    assert inputs.complaints == 2


def test_the_order_events_arrive_in_does_not_change_the_score() -> None:
    events = [(Severity.high, T0), (Severity.low, T0 + timedelta(days=10)), (Severity.critical, T0 + timedelta(days=3))]
    forward = model.Inputs()
    for severity, at in events:
        forward = complaint(forward, severity, at)
    backward = model.Inputs()
    for severity, at in reversed(events):
        backward = complaint(backward, severity, at)
    assert forward.complaint_weight == pytest.approx(backward.complaint_weight)
    assert model.compute(forward).satisfaction == model.compute(backward).satisfaction


def test_suggestions_and_inquiries_do_not_move_satisfaction() -> None:
    inputs = model.add_feedback(model.Inputs(), FeedbackType.suggestion, Severity.low, T0)
    assert inputs == model.Inputs()


def test_the_explanation_names_every_component() -> None:
    explanation = model.compute(complaint(model.Inputs(), Severity.high)).explanation
    assert explanation["components"]["complaints"] == 1
    assert explanation["components"]["complaint_penalty"] == pytest.approx(29.51, abs=0.01)
    assert "complaint penalty" in explanation["summary"]
    assert explanation["model_version"] == model.MODEL_VERSION


def test_merging_two_records_gives_what_one_record_with_all_the_feedback_would_hold() -> None:
    one = complaint(model.Inputs(), Severity.high, T0)
    other = model.add_feedback(
        complaint(model.Inputs(), Severity.low, T0 + timedelta(days=30)), FeedbackType.praise, Severity.low, T0
    )
    merged = model.combine(one, other)
    everything = model.add_feedback(
        complaint(complaint(model.Inputs(), Severity.high, T0), Severity.low, T0 + timedelta(days=30)),
        FeedbackType.praise,
        Severity.low,
        T0,
    )
    assert merged.as_of == everything.as_of == T0 + timedelta(days=30)
    assert merged.complaint_weight == pytest.approx(everything.complaint_weight)
    assert merged.praise_weight == pytest.approx(everything.praise_weight)
    assert (merged.complaints, merged.praises) == (2, 1)
    assert model.compute(merged).satisfaction == model.compute(everything).satisfaction


def test_a_merge_decays_the_older_record_to_the_newer_ones_time_before_adding() -> None:
    older = complaint(model.Inputs(), Severity.high, T0)
    newer = complaint(model.Inputs(), Severity.low, T0 + timedelta(days=model.HALF_LIFE_DAYS))
    merged = model.combine(older, newer)
    assert merged.complaint_weight == pytest.approx(4.0 / 2 + 1.0)
    assert model.combine(newer, older) == merged


def test_merging_with_a_record_without_feedback_changes_nothing() -> None:
    inputs = complaint(model.Inputs(), Severity.medium, T0)
    assert model.combine(inputs, model.Inputs()) == inputs
    assert model.combine(model.Inputs(), inputs) == inputs
    assert model.combine(model.Inputs(), model.Inputs()) == model.Inputs()
