from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from feedback.reports import service
from feedback.reports.schemas import ComplaintCounts, GroupBy, Interval, ReportWindow, Themes

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
