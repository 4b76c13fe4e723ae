from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from crm_shared.http.query import IsoDateTime
from crm_shared.http.schemas import RequestModel
from scoring.indicators.formulas import INDICATORS

Dimension = Literal["all", "tier", "region", "industry", "owner"]
PeriodKind = Literal["day", "week", "month"]
Direction = Literal["above", "below"]
if TYPE_CHECKING:
    IndicatorName = str  # the Literal below is built at run time from the registry: mypy reads a str
else:
    IndicatorName = Literal[tuple(INDICATORS)]

_LIMIT = Query(ge=1, le=500, description="Page size.")


@dataclass
class IndicatorFilters:
    """Which counters to read: one dimension and period kind, periods starting in [since, until)."""

    dimension: Annotated[Dimension, Query(description="Cut by tier, region, industry, owner, or `all`.")] = "all"
    period: Annotated[PeriodKind, Query(description="Calendar bucket in UTC (weeks start on Monday).")] = "month"
    segment: Annotated[
        str | None, Query(min_length=1, max_length=200, description="One segment of the dimension, e.g. `EMEA`.")
    ] = None
    since: Annotated[IsoDateTime | None, Query(description="Periods starting at or after this time.")] = None
    until: Annotated[IsoDateTime | None, Query(description="Periods starting before this time.")] = None
    limit: Annotated[int, _LIMIT] = 100
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")] = None


SeriesFilters = IndicatorFilters


@dataclass
class AlertFilters:
    state: Annotated[Literal["open", "closed"] | None, Query(description="Open (still outside) or closed.")] = None
    indicator: Annotated[IndicatorName | None, Query(description="One indicator.")] = None
    dimension: Annotated[Dimension | None, Query(description="One dimension.")] = None
    segment: Annotated[str | None, Query(min_length=1, max_length=200, description="One segment.")] = None
    limit: Annotated[int, _LIMIT] = 50
    cursor: Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page.")] = None


class IndicatorValue(BaseModel):
    value: float | None = Field(description="Null when there is nothing to measure (no sample).")
    sample_size: int = Field(description="What the value is computed over: answers, complaints, customers ...")
    unit: str


class _SegmentPeriod(BaseModel):
    dimension: Dimension
    segment: str | None = Field(description="The tier, region, ... value; null for `all`; `unknown` when not set.")
    period: PeriodKind
    period_start: datetime
    period_end: datetime


class SegmentPeriod(_SegmentPeriod):
    indicators: dict[str, IndicatorValue]
    counters: dict[str, float] = Field(description="The sums and counts the values are computed from.")


class IndicatorPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "dimension": "region",
                            "segment": "EMEA",
                            "period": "month",
                            "period_start": "2026-11-01T00:00:00Z",
                            "period_end": "2026-12-01T00:00:00Z",
                            "indicators": {
                                "complaint_rate_per_100": {
                                    "value": 4.2,
                                    "sample_size": 240,
                                    "unit": "per_100_customers",
                                },
                                "nps": {"value": 18.0, "sample_size": 50, "unit": "nps"},
                            },
                            "counters": {"complaints": 10, "nps_answers": 50},
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    items: list[SegmentPeriod] = Field(description="Newest period first, then by segment.")
    next_cursor: str | None


class IndicatorPoint(_SegmentPeriod):
    value: float | None
    sample_size: int


class SeriesPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "indicator": "sla_attainment",
                    "unit": "percent",
                    "items": [
                        {
                            "dimension": "all",
                            "segment": None,
                            "period": "week",
                            "period_start": "2026-11-23T00:00:00Z",
                            "period_end": "2026-11-30T00:00:00Z",
                            "value": 93.5,
                            "sample_size": 124,
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    indicator: str
    unit: str
    items: list[IndicatorPoint] = Field(description="Newest period first, then by segment.")
    next_cursor: str | None


class ThresholdSet(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"value": 5, "direction": "above", "min_sample": 20, "enabled": True, "period": "month"}]
        },
    )

    value: float = Field(allow_inf_nan=False, description="In the indicator's unit (its allowed range applies).")
    direction: Direction = Field(description="Alert when the value goes above / below `value`.")
    min_sample: int = Field(
        default=1, ge=1, le=1_000_000, description="No alert opens or closes on a smaller sample than this."
    )
    enabled: bool = True
    period: PeriodKind = Field(default="month", description="The period kind whose current bucket is checked.")


class ThresholdRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "indicator": "complaint_rate_per_100",
                    "unit": "per_100_customers",
                    "value": 5.0,
                    "direction": "above",
                    "min_sample": 20,
                    "enabled": True,
                    "period": "month",
                    "version": 0,
                    "updated_by": "default",
                    "updated_at": None,
                }
            ]
        }
    )

    indicator: str
    unit: str
    value: float
    direction: Direction
    min_sample: int
    enabled: bool
    period: PeriodKind
    version: int = Field(description="0 for the shipped default, then 1, 2, ... per change.")
    updated_by: str = Field(description="Token subject that set this version (`default` for the shipped one).")
    updated_at: datetime | None


class SegmentThresholdRead(BaseModel):
    """A segment's own threshold, in force instead of the indicator's for that segment only."""

    indicator: str
    dimension: Dimension
    segment: str = Field(description="The tier, region, ... value; `all` for the `all` dimension.")
    value: float
    direction: Direction
    min_sample: int
    enabled: bool
    period: PeriodKind
    version: int
    updated_by: str
    updated_at: datetime | None


class ThresholdList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": ThresholdRead.model_config["json_schema_extra"]["examples"]}]}  # type: ignore[index]  # json_schema_extra is typed dict | callable; ours is a dict
    )

    items: list[ThresholdRead] = Field(description="Every indicator, in a fixed order.")
    segments: list[SegmentThresholdRead] = Field(
        default_factory=list,
        description="Segment overrides (e.g. a stricter complaint rate for key accounts), by indicator, "
        "dimension and segment.",
    )


class AlertRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5b0e1f0c-9c8e-4d0b-a7f1-4f4c2b8e9a01",
                    "indicator": "nps",
                    "dimension": "owner",
                    "segment": "alice",
                    "period": "month",
                    "period_start": "2026-11-01T00:00:00Z",
                    "period_end": "2026-12-01T00:00:00Z",
                    "state": "open",
                    "value": -12.5,
                    "sample_size": 16,
                    "threshold": 0.0,
                    "direction": "below",
                    "threshold_version": 0,
                    "opened_at": "2026-11-18T09:12:44Z",
                    "closed_at": None,
                    "recovered_value": None,
                }
            ]
        },
    )

    id: uuid.UUID
    indicator: str
    dimension: Dimension
    segment: str | None
    period: PeriodKind
    period_start: datetime
    period_end: datetime
    state: Literal["open", "closed"]
    value: float = Field(description="The value that crossed the threshold.")
    sample_size: int
    threshold: float
    direction: Direction
    threshold_version: int
    opened_at: datetime
    closed_at: datetime | None
    recovered_value: float | None = Field(description="The value back inside the threshold that closed it.")


class AlertPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"items": AlertRead.model_config["json_schema_extra"]["examples"], "next_cursor": None}  # type: ignore[index]  # json_schema_extra is typed dict | callable; ours is a dict
            ]
        }
    )

    items: list[AlertRead] = Field(description="Newest first.")
    next_cursor: str | None
