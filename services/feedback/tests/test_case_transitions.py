"""Unit tests of the case lifecycles (feedback/cases/transitions.py): pure rules, no server."""

import itertools

import pytest

from crm_shared.contracts.vocabulary import CASE_TYPES, CaseStatus, FeedbackType, SurveyMetric
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


def test_every_request_type_is_a_case_and_every_status_belongs_to_a_lifecycle() -> None:
    assert set(transitions.LIFECYCLES) == set(CASE_TYPES)
    assert {s for table in transitions.LIFECYCLES.values() for s in table} == set(CaseStatus)
    for kind, table in transitions.LIFECYCLES.items():
        # Every status a case can reach has its own entry, and every case can end.
        assert {s for nexts in table.values() for s in nexts} <= set(table), kind
        assert transitions.DONE[kind] <= set(table), kind
    assert not transitions.is_case(FeedbackType.praise) and not transitions.is_case(FeedbackType.survey_response)


@pytest.mark.parametrize(("kind", "current"), [(k, s) for k, table in transitions.LIFECYCLES.items() for s in table])
def test_a_case_never_stands_still_or_goes_back_to_received(kind: FeedbackType, current: CaseStatus) -> None:
    allowed = transitions.allowed_next(current, kind)
    assert current not in allowed
    assert S.received not in allowed


@pytest.mark.parametrize(
    ("kind", "path", "done"),
    [
        (FeedbackType.inquiry, [S.received, S.in_progress, S.answered, S.closed], S.answered),
        (FeedbackType.technical_support, [S.received, S.scheduled, S.in_progress, S.resolved, S.closed], S.resolved),
        (FeedbackType.suggestion, [S.received, S.under_review, S.accepted, S.delivered], S.accepted),
    ],
)
def test_each_request_type_walks_its_own_path_and_knows_when_it_is_done(
    kind: FeedbackType, path: list[CaseStatus], done: CaseStatus
) -> None:
    assert all(b in transitions.allowed_next(a, kind) for a, b in itertools.pairwise(path))
    assert done.value in transitions.done_statuses(kind) and S.received.value not in transitions.done_statuses(kind)
    # A complaint's statuses do not leak into the others' lifecycles.
    assert S.acknowledged not in transitions.LIFECYCLES[kind]


def test_a_follow_up_question_reopens_an_answered_inquiry_but_a_reviewed_suggestion_is_no_reopen() -> None:
    assert transitions.is_reopen(S.answered, S.in_progress, FeedbackType.inquiry)
    assert not transitions.is_reopen(S.declined, S.under_review, FeedbackType.suggestion)
    assert transitions.allowed_next(S.resolved, FeedbackType.inquiry) == ()


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
