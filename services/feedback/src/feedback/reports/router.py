from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from feedback.reports import service
from feedback.reports.schemas import (
    CausePareto,
    ComplaintCounts,
    GroupBy,
    Interval,
    RecoveryIndicators,
    ReportWindow,
    RequestCounts,
    Themes,
)

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/complaints",
    response_model=ComplaintCounts,
    summary="Complaint counts over time, by category, channel, product, region or tier",
    description="Counts complaints received in [`since`, `until`) per `interval` (periods start at UTC "
    "midnight; weeks on Monday) and per group. `tier` is the customer's tier when the complaint came in; "
    "`region` the customer's region now. A missing value counts as `unknown`. At most 400 periods.",
)
async def complaint_counts(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    window: Annotated[ReportWindow, Depends()],
    group_by: GroupBy = GroupBy.category,
    interval: Interval = Interval.week,
) -> ComplaintCounts:
    return await service.complaint_counts(session, window, group_by, interval)


@router.get(
    "/themes",
    response_model=Themes,
    summary="Top recurring complaint themes, for escalation to management",
    description="A theme is a category and product. The most frequent themes of [`since`, `until`), "
    "each with its distinct customers and the count of the period of the same length just before. "
    "`escalate` is true when at least 3 different customers raised it and it is not shrinking.",
)
async def recurring_themes(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    window: Annotated[ReportWindow, Depends()],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Themes:
    return await service.recurring_themes(session, window, limit)


@router.get(
    "/requests",
    response_model=RequestCounts,
    summary="Every request type's cases: received, done, open, SLA breached",
    description="Complaints, inquiries, technical support and suggestions received in [`since`, `until`), per "
    "type and (with `group_by`) per category, channel, product, region or tier. `done` is each type's end "
    "(docs/domain.md#every-request-is-a-case): a complaint resolved or closed, an inquiry answered, a "
    "suggestion accepted, declined or delivered.",
)
async def request_counts(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    window: Annotated[ReportWindow, Depends()],
    group_by: GroupBy | None = None,
) -> RequestCounts:
    return await service.request_counts(session, window, group_by)


@router.get(
    "/causes",
    response_model=CausePareto,
    summary="Cause Pareto of resolved complaints, by product, region or tier",
    description="The causes of the complaints resolved in [`since`, `until`), most frequent first, per segment "
    "of `by` (product, region, tier, ...; left out: all complaints): count, share, cumulative share, and "
    "`vital_few` for the causes that together explain the first 80 %: what to fix first.",
)
async def cause_pareto(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    window: Annotated[ReportWindow, Depends()],
    by: GroupBy | None = None,
) -> CausePareto:
    return await service.cause_pareto(session, window, by)


@router.get(
    "/service-recovery",
    response_model=RecoveryIndicators,
    summary="Recovery indicators: reopen rate and time to compensation",
    description="Of the complaints resolved in [`since`, `until`) (per `group_by` segment): how many were "
    "reopened at some point (`reopen_rate`, percent) and, of those giving compensation, how many are paid and "
    "the mean and median days from the complaint to the payment day; slow compensation is a failed recovery "
    "(docs/domain.md#cause-remedy-compensation).",
)
async def recovery_indicators(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("feedback:read"))],
    window: Annotated[ReportWindow, Depends()],
    group_by: GroupBy | None = None,
) -> RecoveryIndicators:
    return await service.recovery_indicators(session, window, group_by)
