"""Reading indicators: values per segment and period, series, and the alerts (the api's GET use cases)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.http.pagination import decode_cursor, decode_time_cursor, encode_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound, ProblemError
from scoring.indicators import formulas
from scoring.indicators.formulas import COUNTERS
from scoring.indicators.models import IndicatorAlert
from scoring.indicators.repository import IndicatorRepository
from scoring.indicators.schemas import (
    AlertPage,
    AlertRead,
    IndicatorFilters,
    IndicatorPage,
    IndicatorPoint,
    IndicatorValue,
    SegmentPeriod,
    SeriesFilters,
    SeriesPage,
)
from scoring.indicators.thresholds import known_indicator

# --- reads -------------------------------------------------------------------------------


def _decode_segment_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    start, segment = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(start), segment
    except ValueError as exc:
        raise ProblemError(
            400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor"
        ) from exc


async def _rows(session: AsyncSession, filters: IndicatorFilters | SeriesFilters) -> tuple[list[Row[Any]], str | None]:
    rows = await IndicatorRepository(session).counters(
        dimension=filters.dimension,
        period=filters.period,
        since=filters.since,
        until=filters.until,
        segment=(filters.segment or None) if filters.dimension != "all" else None,
        after=_decode_segment_cursor(filters.cursor),
        limit=filters.limit + 1,
    )
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return rows, (encode_cursor(rows[-1].period_start.isoformat(), rows[-1].segment) if more and rows else None)


def _segment_period(row: Row[Any]) -> dict[str, Any]:
    return {
        "dimension": row.dimension,
        "segment": row.segment if row.dimension != "all" else None,
        "period": row.period,
        "period_start": row.period_start,
        "period_end": formulas.period_end(row.period, row.period_start),
    }


async def indicator_values(session: AsyncSession, filters: IndicatorFilters) -> IndicatorPage:
    rows, next_cursor = await _rows(session, filters)
    items = []
    for row in rows:
        computed = formulas.values(cast(formulas.Counters, row._mapping))
        items.append(
            SegmentPeriod(
                **_segment_period(row),
                indicators={
                    name: IndicatorValue(value=value, sample_size=sample, unit=formulas.INDICATORS[name].unit)
                    for name, (value, sample) in computed.items()
                },
                counters={name: row._mapping[name] for name in COUNTERS},
            )
        )
    return IndicatorPage(items=items, next_cursor=next_cursor)


async def indicator_series(session: AsyncSession, name: str, filters: SeriesFilters) -> SeriesPage:
    indicator = known_indicator(name)
    rows, next_cursor = await _rows(session, filters)
    items = []
    for row in rows:
        value, sample = indicator.compute(cast(formulas.Counters, row._mapping))
        items.append(IndicatorPoint(**_segment_period(row), value=value, sample_size=sample))
    return SeriesPage(indicator=name, unit=indicator.unit, items=items, next_cursor=next_cursor)


def _alert_read(alert: IndicatorAlert) -> AlertRead:
    read = AlertRead.model_validate(alert)
    return read.model_copy(update={"segment": alert.segment or None})


async def get_alert(session: AsyncSession, alert_id: uuid.UUID) -> AlertRead:
    alert = await IndicatorRepository(session).alert(alert_id)
    if alert is None:
        raise NotFound("Alert", alert_id)
    return _alert_read(alert)


async def list_alerts(session: AsyncSession, filters: Any) -> AlertPage:
    alerts = await IndicatorRepository(session).alerts(
        state=filters.state,
        indicator=filters.indicator,
        dimension=filters.dimension,
        segment=filters.segment,
        before=decode_time_cursor(filters.cursor),
        limit=filters.limit + 1,
    )
    more = len(alerts) > filters.limit
    alerts = alerts[: filters.limit]
    next_cursor = encode_time_cursor(alerts[-1].opened_at, alerts[-1].id) if more and alerts else None
    return AlertPage(items=[_alert_read(a) for a in alerts], next_cursor=next_cursor)
