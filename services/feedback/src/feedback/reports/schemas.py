from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from crm_shared.http.query import IsoDateTime


class GroupBy(StrEnum):
    category = "category"
    channel = "channel"
    product = "product"
    region = "region"
    tier = "tier"


class Interval(StrEnum):
    day = "day"
    week = "week"
    month = "month"


@dataclass
class ReportWindow:
    """The period a report covers: `since` (inclusive) to `until` (exclusive), both with a time zone."""

    since: Annotated[IsoDateTime, Query(description="Start of the period, e.g. 2026-10-01T00:00:00Z.")]
    until: Annotated[IsoDateTime | None, Query(description="End of the period (exclusive); default now.")] = None


class Bucket(BaseModel):
    period_start: datetime
    counts: dict[str, int] = Field(description="Complaints per group in this period; `unknown` when not given.")
    total: int


class ComplaintCounts(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "group_by": "category",
                    "interval": "week",
                    "since": "2026-10-05T00:00:00Z",
                    "until": "2026-10-19T00:00:00Z",
                    "buckets": [
                        {"period_start": "2026-10-05T00:00:00Z", "counts": {"service.delivery": 12}, "total": 12},
                        {
                            "period_start": "2026-10-12T00:00:00Z",
                            "counts": {"service.delivery": 19, "product.quality": 4},
                            "total": 23,
                        },
                    ],
                    "totals": {"service.delivery": 31, "product.quality": 4},
                }
            ]
        }
    )

    group_by: GroupBy
    interval: Interval
    since: datetime
    until: datetime
    buckets: list[Bucket] = Field(description="Oldest first; periods without complaints are left out.")
    totals: dict[str, int]


class Theme(BaseModel):
    category: str
    product: str | None
    complaints: int = Field(description="Complaints in the period.")
    customers: int = Field(description="Distinct customers who complained: a theme, not one loud customer.")
    previous_period: int = Field(description="Complaints in the period of the same length just before.")
    change_percent: float | None = Field(description="Growth against the previous period; null when it had none.")
    escalate: bool = Field(description="Recurring and not shrinking: see the endpoint description.")


class Themes(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2026-10-01T00:00:00Z",
                    "until": "2026-11-01T00:00:00Z",
                    "themes": [
                        {
                            "category": "service.delivery",
                            "product": "pump-x200",
                            "complaints": 41,
                            "customers": 17,
                            "previous_period": 22,
                            "change_percent": 86.4,
                            "escalate": True,
                        }
                    ],
                }
            ]
        }
    )

    since: datetime
    until: datetime
    themes: list[Theme]


class RequestRow(BaseModel):
    type: str = Field(description="complaint, inquiry, technical_support or suggestion.")
    group: str = Field(description="The segment (`all` without `group_by`; `unknown` when not given).")
    received: int = Field(description="Cases of this type received in the period.")
    done: int = Field(description="... of which are done (resolved, answered, decided, closed).")
    open: int
    sla_breached: int = Field(description="... of which missed a first-response or resolution deadline.")


class RequestCounts(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2026-10-01T00:00:00Z",
                    "until": "2026-11-01T00:00:00Z",
                    "group_by": "tier",
                    "rows": [
                        {"type": "inquiry", "group": "gold", "received": 40, "done": 37, "open": 3, "sla_breached": 2}
                    ],
                }
            ]
        }
    )

    since: datetime
    until: datetime
    group_by: GroupBy | None
    rows: list[RequestRow]


class ParetoBar(BaseModel):
    cause_code: str
    label: str
    complaints: int
    percent: float = Field(description="Share of the segment's resolved complaints.")
    cumulative_percent: float
    vital_few: bool = Field(description="Among the causes that together explain the first 80 %.")


class ParetoSegment(BaseModel):
    segment: str
    complaints: int
    causes: list[ParetoBar] = Field(description="Most frequent cause first.")


class CausePareto(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "since": "2026-10-01T00:00:00Z",
                    "until": "2026-11-01T00:00:00Z",
                    "by": "product",
                    "segments": [
                        {
                            "segment": "pump-x200",
                            "complaints": 10,
                            "causes": [
                                {
                                    "cause_code": "delivery.late",
                                    "label": "Late delivery",
                                    "complaints": 7,
                                    "percent": 70.0,
                                    "cumulative_percent": 70.0,
                                    "vital_few": True,
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )

    since: datetime
    until: datetime
    by: GroupBy | None
    segments: list[ParetoSegment]


class RecoveryRow(BaseModel):
    group: str
    resolved: int = Field(description="Complaints resolved in the period.")
    reopened: int = Field(description="... of which were reopened at some point (the fix did not hold).")
    reopen_rate: float | None = Field(description="reopened / resolved, in percent.")
    compensated: int = Field(description="... of which give a compensation.")
    compensation_paid: int
    awaiting_payment: int
    mean_days_to_compensation: float | None = Field(description="From the complaint to the payment day.")
    median_days_to_compensation: float | None


class RecoveryIndicators(BaseModel):
    since: datetime
    until: datetime
    group_by: GroupBy | None
    rows: list[RecoveryRow]
