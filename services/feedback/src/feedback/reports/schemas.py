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
