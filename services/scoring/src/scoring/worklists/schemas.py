"""The work-list query (GET /v1/scores) and its rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from crm_shared.contracts.vocabulary import Band, LifecycleStage, Tier


class SortKey(StrEnum):
    value = "value"
    churn_risk = "churn_risk"
    health = "health"


Score = Annotated[float | None, Query(ge=0, le=100)]


@dataclass
class WorkListFilters:
    """Every filter is optional; repeated values of one filter match any of them."""

    band: Annotated[list[Band] | None, Query(description="healthy, watch, at_risk, critical")] = None
    tier: Annotated[list[Tier] | None, Query()] = None
    owner: Annotated[list[str] | None, Query(max_length=200)] = None
    region: Annotated[list[str] | None, Query(max_length=100)] = None
    lifecycle: Annotated[list[LifecycleStage] | None, Query()] = None
    min_value: Score = None
    max_value: Score = None
    min_churn_risk: Score = None
    max_churn_risk: Score = None
    min_health: Score = None
    max_health: Score = None
    sort: Annotated[SortKey, Query(description="value, churn_risk or health")] = SortKey.churn_risk
    order: Annotated[str, Query(pattern="^(asc|desc)$", description="desc (default): highest first")] = "desc"


class WorkListItem(BaseModel):
    customer_id: uuid.UUID
    name: str | None = Field(description="From the customer card (null until the card is known).")
    tier: str | None
    owner: str | None
    region: str | None
    lifecycle: str | None
    credit: str | None
    satisfaction: float
    loyalty: float
    value: float
    churn_risk: float
    health: float
    band: Band
    updated_at: datetime


class WorkListPage(BaseModel):
    items: list[WorkListItem]
    next_cursor: str | None


CSV_COLUMNS = tuple(WorkListItem.model_fields)
