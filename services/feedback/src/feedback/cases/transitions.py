"""The complaint case lifecycle, written once as data (pure rules, no I/O).

    received -> acknowledged -> in_progress -> resolved -> closed

Shortcuts, because real cases take them:
- received -> in_progress: the agent starts work on first contact (acknowledging is implied);
- received -> resolved, acknowledged -> resolved: first-contact resolution (fixed on the call);
- resolved -> in_progress, closed -> in_progress: **reopen** (the fix did not hold, or the
  customer's follow-up answer was unhappy); the change is marked `reopened: true`.
Everything else (going back to received or acknowledged, skipping resolved on the way to closed,
standing still) is refused with 409 naming the allowed next statuses.
"""

from __future__ import annotations

from crm_shared.contracts.vocabulary import CaseStatus, SurveyMetric

S = CaseStatus
TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    S.received: (S.acknowledged, S.in_progress, S.resolved),
    S.acknowledged: (S.in_progress, S.resolved),
    S.in_progress: (S.resolved,),
    S.resolved: (S.closed, S.in_progress),
    S.closed: (S.in_progress,),
}
REOPENABLE = frozenset({S.resolved, S.closed})

# A follow-up answer at or past these scores means the customer is still unhappy: the complaint
# reopens. CSAT 1-5 (1-2 = dissatisfied), NPS 0-10 (0-6 = detractor), CES 1-7 (5-7 = hard work).
UNHAPPY = {SurveyMetric.csat: lambda s: s <= 2, SurveyMetric.nps: lambda s: s <= 6, SurveyMetric.ces: lambda s: s >= 5}
# ... and at or past these, satisfied: a resolved complaint closes. The middle (CSAT 3, NPS 7-8,
# CES 3-4) leaves the case resolved for a person to judge.
HAPPY = {SurveyMetric.csat: lambda s: s >= 4, SurveyMetric.nps: lambda s: s >= 9, SurveyMetric.ces: lambda s: s <= 2}


def allowed_next(current: CaseStatus) -> tuple[CaseStatus, ...]:
    return TRANSITIONS[current]


def is_reopen(current: CaseStatus, to: CaseStatus) -> bool:
    return current in REOPENABLE and to is CaseStatus.in_progress


def is_unhappy(metric: SurveyMetric, score: int) -> bool:
    return UNHAPPY[metric](score)


def is_happy(metric: SurveyMetric, score: int) -> bool:
    return HAPPY[metric](score)
