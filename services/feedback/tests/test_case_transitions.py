"""Unit tests of the complaint lifecycle (feedback/cases/transitions.py): pure rules, no server."""

import pytest

from crm_shared.contracts.vocabulary import CaseStatus, SurveyMetric
from feedback.cases import transitions

S = CaseStatus


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        (S.received, {S.acknowledged, S.in_progress, S.resolved}),
        (S.acknowledged, {S.in_progress, S.resolved}),
        (S.in_progress, {S.resolved}),
        (S.resolved, {S.closed, S.in_progress}),
        (S.closed, {S.in_progress}),
    ],
)
def test_each_status_allows_exactly_its_next_moves(current: CaseStatus, allowed: set[CaseStatus]) -> None:
    assert set(transitions.allowed_next(current)) == allowed


def test_every_status_has_an_entry_in_the_table() -> None:
    assert set(transitions.TRANSITIONS) == set(CaseStatus)


@pytest.mark.parametrize("current", list(CaseStatus))
def test_a_case_never_stands_still_or_goes_back_to_received(current: CaseStatus) -> None:
    allowed = transitions.allowed_next(current)
    assert current not in allowed
    assert S.received not in allowed


def test_acknowledged_cannot_be_reached_once_work_started() -> None:
    reachable_from_later = {s for c in (S.in_progress, S.resolved, S.closed) for s in transitions.allowed_next(c)}
    assert S.acknowledged not in reachable_from_later


def test_closed_is_reached_only_through_resolved() -> None:
    assert [c for c in CaseStatus if S.closed in transitions.allowed_next(c)] == [S.resolved]


@pytest.mark.parametrize(
    ("current", "to", "reopen"),
    [
        (S.resolved, S.in_progress, True),
        (S.closed, S.in_progress, True),
        (S.received, S.in_progress, False),
        (S.acknowledged, S.in_progress, False),
        (S.resolved, S.closed, False),
    ],
)
def test_only_leaving_resolved_or_closed_for_in_progress_is_a_reopen(
    current: CaseStatus, to: CaseStatus, reopen: bool
) -> None:
    assert transitions.is_reopen(current, to) is reopen


@pytest.mark.parametrize(
    ("metric", "unhappy", "middle", "happy"),
    [
        (SurveyMetric.csat, [1, 2], [3], [4, 5]),
        (SurveyMetric.nps, list(range(0, 7)), [7, 8], [9, 10]),
        (SurveyMetric.ces, [7, 6, 5], [3, 4], [1, 2]),
    ],
)
def test_follow_up_answers_split_into_unhappy_middle_and_happy(
    metric: SurveyMetric, unhappy: list[int], middle: list[int], happy: list[int]
) -> None:
    assert all(transitions.is_unhappy(metric, s) and not transitions.is_happy(metric, s) for s in unhappy)
    assert all(not transitions.is_unhappy(metric, s) and not transitions.is_happy(metric, s) for s in middle)
    assert all(transitions.is_happy(metric, s) and not transitions.is_unhappy(metric, s) for s in happy)
