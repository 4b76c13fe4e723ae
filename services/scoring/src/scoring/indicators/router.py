from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.responses import JsonResponse
from scoring.indicators import reads, thresholds
from scoring.indicators.formulas import INDICATORS
from scoring.indicators.schemas import (
    AlertFilters,
    AlertPage,
    AlertRead,
    Dimension,
    IndicatorFilters,
    IndicatorPage,
    SegmentThresholdRead,
    SeriesFilters,
    SeriesPage,
    ThresholdList,
    ThresholdRead,
    ThresholdSet,
)

indicators_router = APIRouter(prefix="/v1/indicators", tags=["indicators"])
thresholds_router = APIRouter(prefix="/v1/indicator-thresholds", tags=["indicators"])
alerts_router = APIRouter(prefix="/v1/alerts", tags=["indicators"])

_NAMES = ", ".join(f"`{name}`" for name in INDICATORS)
IndicatorPath = Annotated[str, Path(max_length=60, description=f"One of {_NAMES}.")]
_UNKNOWN_INDICATOR: dict[int | str, dict[str, Any]] = {404: {"description": "No indicator with this name"}}

Reader = Annotated[Principal, Depends(require("scores:read"))]


@indicators_router.get(
    "",
    response_model=IndicatorPage,
    summary="Every indicator by segment and period, with sample sizes",
    description="One item per segment of `dimension` and per `period` bucket (UTC calendar day, week from "
    "Monday, month) that saw any event, newest first: each indicator's value and what it is computed over, "
    'plus the raw counters. Formulas: docs/scoring.md, "Indicator system".',
)
async def list_indicators(
    session: SessionDep, _: Reader, filters: Annotated[IndicatorFilters, Depends()]
) -> IndicatorPage:
    return await reads.indicator_values(session, filters)


@indicators_router.get(
    "/{indicator}",
    response_model=SeriesPage,
    summary="One indicator's series",
    description="The indicator per period (and per segment of `dimension`), newest first.",
    responses=_UNKNOWN_INDICATOR,
)
async def indicator_series(
    indicator: IndicatorPath, session: SessionDep, _: Reader, filters: Annotated[SeriesFilters, Depends()]
) -> SeriesPage:
    return await reads.indicator_series(session, indicator, filters)


@thresholds_router.get(
    "",
    response_model=ThresholdList,
    summary="The threshold of every indicator",
    description="Value, direction, minimum sample, period kind checked and whether it is on; version 0 is "
    "the shipped default.",
)
async def list_thresholds(session: SessionDep, _: Reader) -> ThresholdList:
    return await thresholds.list_thresholds(session)


@thresholds_router.put(
    "/{indicator}",
    response_model=ThresholdRead,
    summary="Change an indicator's threshold",
    description="Stores a new version (who and when are kept). It is checked from the next event that moves "
    "the indicator. Needs the `admin` scope; `Idempotency-Key` makes retries safe.",
    responses=_UNKNOWN_INDICATOR,
)
async def put_threshold(
    indicator: IndicatorPath,
    body: ThresholdSet,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, f"indicator_threshold.put:{indicator}")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    threshold = await thresholds.set_threshold(session, indicator, body, actor=principal.subject)
    payload = threshold.model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload)


DimensionPath = Annotated[Dimension, Path(description="all, tier, region, industry or owner.")]
SegmentPath = Annotated[str, Path(min_length=1, max_length=200, description="`key`, `EMEA`, ...; `all` for `all`.")]


@thresholds_router.put(
    "/{indicator}/segments/{dimension}/{segment}",
    response_model=SegmentThresholdRead,
    summary="Set one segment's own threshold (stricter for key accounts, ...)",
    description="Stores a new version of the segment's threshold, checked instead of the indicator's for that "
    "segment from the next event that moves it (docs/domain.md#alerts-that-reach-people). Needs the `admin` "
    "scope; `Idempotency-Key` makes retries safe.",
    responses=_UNKNOWN_INDICATOR,
)
async def put_segment_threshold(
    indicator: IndicatorPath,
    dimension: DimensionPath,
    segment: SegmentPath,
    body: ThresholdSet,
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> JsonResponse:
    scope = f"indicator_threshold.segment.put:{indicator}/{dimension}/{segment}"
    idempotency = Idempotency.from_request(request, session, principal, scope)
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    threshold = await thresholds.set_segment_threshold(
        session, indicator, dimension, segment, body, actor=principal.subject
    )
    payload = threshold.model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload)


@thresholds_router.delete(
    "/{indicator}/segments/{dimension}/{segment}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Remove a segment's own threshold (the indicator's applies again)",
    description="Stored as a version too (who, when). Needs the `admin` scope.",
    responses={404: {"description": "No such indicator, or the segment has no threshold of its own"}},
)
async def delete_segment_threshold(
    indicator: IndicatorPath,
    dimension: DimensionPath,
    segment: SegmentPath,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> Response:
    await thresholds.remove_segment_threshold(session, indicator, dimension, segment, actor=principal.subject)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@alerts_router.get(
    "",
    response_model=AlertPage,
    summary="Indicator alerts, newest first",
    description="An alert opens when an indicator crosses its threshold in the current period and closes "
    "when it comes back inside.",
)
async def list_alerts(session: SessionDep, _: Reader, filters: Annotated[AlertFilters, Depends()]) -> AlertPage:
    return await reads.list_alerts(session, filters)


@alerts_router.get(
    "/{alert_id}",
    response_model=AlertRead,
    summary="One indicator alert",
    responses={404: {"description": "No alert with this id"}},
)
async def get_alert(alert_id: uuid.UUID, session: SessionDep, _: Reader) -> AlertRead:
    return await reads.get_alert(session, alert_id)


routers = [indicators_router, thresholds_router, alerts_router]
