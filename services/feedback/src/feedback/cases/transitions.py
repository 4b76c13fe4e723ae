"""Every request type's case lifecycle, written once as data (pure rules, no I/O).

Complaint (docs/domain.md#complaint-handling):

    received -> acknowledged -> in_progress -> resolved -> closed

Shortcuts, because real cases take them:
- received -> in_progress: the agent starts work on first contact (acknowledging is implied);
- received -> resolved, acknowledged -> resolved: first-contact resolution (fixed on the call);
- resolved -> in_progress, closed -> in_progress: **reopen** (the fix did not hold, or the
  customer's follow-up answer was unhappy); the change is marked `reopened: true`.

Inquiry: received -> in_progress -> answered -> closed (answered on first contact: received ->
answered); a follow-up question reopens an answered or closed inquiry.

Technical support: received -> scheduled (a technician visit, remote session or on-site
training is booked) -> in_progress -> resolved -> closed; reopenable like a complaint.

Suggestion (docs/domain.md#the-suggestion-backlog): received -> under_review -> accepted (it is
on the product backlog) or declined; accepted -> delivered once the product has it. A declined
suggestion may be reviewed again (not a reopen: nothing was promised).

Everything else (going back, skipping a step, standing still) is refused with 409 naming the
allowed next statuses. Each lifecycle also says which statuses end the case (`DONE`): reaching
one meets the resolution SLA, leaving one restarts it.
"""

from __future__ import annotations

from crm_shared.contracts.vocabulary import CaseStatus, FeedbackType, SurveyMetric

S = CaseStatus
T = FeedbackType
LIFECYCLES: dict[FeedbackType, dict[CaseStatus, tuple[CaseStatus, ...]]] = {
    T.complaint: {
        S.received: (S.acknowledged, S.in_progress, S.resolved),
        S.acknowledged: (S.in_progress, S.resolved),
        S.in_progress: (S.resolved,),
        S.resolved: (S.closed, S.in_progress),
        S.closed: (S.in_progress,),
    },
    T.inquiry: {
        S.received: (S.in_progress, S.answered),
        S.in_progress: (S.answered,),
        S.answered: (S.closed, S.in_progress),
        S.closed: (S.in_progress,),
    },
    T.technical_support: {
        S.received: (S.scheduled, S.in_progress, S.resolved),
        S.scheduled: (S.in_progress, S.resolved),
        S.in_progress: (S.resolved,),
        S.resolved: (S.closed, S.in_progress),
        S.closed: (S.in_progress,),
    },
    T.suggestion: {
        S.received: (S.under_review, S.accepted, S.declined),
        S.under_review: (S.accepted, S.declined),
        S.accepted: (S.delivered,),
        S.declined: (S.under_review,),
        S.delivered: (),
    },
}
# The statuses that end a case of each type: the resolution clock is met on reaching one.
DONE: dict[FeedbackType, frozenset[CaseStatus]] = {
    T.complaint: frozenset({S.resolved, S.closed}),
    T.inquiry: frozenset({S.answered, S.closed}),
    T.technical_support: frozenset({S.resolved, S.closed}),
    T.suggestion: frozenset({S.accepted, S.declined, S.delivered}),
}
# Going back to work from these is a reopen (the customer was told it was done, and it was not).
REOPENS: dict[FeedbackType, frozenset[CaseStatus]] = {
    T.complaint: frozenset({S.resolved, S.closed}),
    T.inquiry: frozenset({S.answered, S.closed}),
    T.technical_support: frozenset({S.resolved, S.closed}),
    T.suggestion: frozenset(),
}
# Kept for the complaint rules below (the follow-up answer reopens a complaint).
TRANSITIONS = LIFECYCLES[T.complaint]
REOPENABLE = REOPENS[T.complaint]

# A follow-up answer at or past these scores means the customer is still unhappy: the complaint
# reopens. CSAT 1-5 (1-2 = dissatisfied), NPS 0-10 (0-6 = detractor), CES 1-7 (5-7 = hard work).
UNHAPPY = {SurveyMetric.csat: lambda s: s <= 2, SurveyMetric.nps: lambda s: s <= 6, SurveyMetric.ces: lambda s: s >= 5}
# ... and at or past these, satisfied: a resolved complaint closes. The middle (CSAT 3, NPS 7-8,
# CES 3-4) leaves the case resolved for a person to judge.
HAPPY = {SurveyMetric.csat: lambda s: s >= 4, SurveyMetric.nps: lambda s: s >= 9, SurveyMetric.ces: lambda s: s <= 2}


def is_case(kind: FeedbackType | str) -> bool:
    return FeedbackType(kind) in LIFECYCLES


def initial_status(kind: FeedbackType) -> str:
    """Where a new piece of feedback starts: `received` for a case, `recorded` for the rest."""
    return S.received.value if kind in LIFECYCLES else "recorded"


def allowed_next(current: CaseStatus, kind: FeedbackType = T.complaint) -> tuple[CaseStatus, ...]:
    return LIFECYCLES[kind].get(current, ())


def is_reopen(current: CaseStatus, to: CaseStatus, kind: FeedbackType = T.complaint) -> bool:
    return current in REOPENS[kind] and to not in DONE[kind]


def done_statuses(kind: FeedbackType | str) -> frozenset[str]:
    """The statuses ending a case of this kind, as the strings the SLA clocks compare."""
    return frozenset(s.value for s in DONE.get(FeedbackType(kind), frozenset()))


def is_unhappy(metric: SurveyMetric, score: int) -> bool:
    return UNHAPPY[metric](score)


def is_happy(metric: SurveyMetric, score: int) -> bool:
    return HAPPY[metric](score)
