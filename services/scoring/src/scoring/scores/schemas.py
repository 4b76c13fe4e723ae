from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.contracts.vocabulary import Band


class ScoreRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "6f1c8a50-3f7e-4f4f-9a53-0d3c1c7f2b10",
                    "satisfaction": 45.5,
                    "health": 45.5,
                    "band": "at_risk",
                    "model_version": "satisfaction-v1",
                    "updated_at": "2026-11-22T10:15:02.123Z",
                    "last_event_id": "0b8e5a8e-5d55-4c1a-8a43-7d2e8f0f4a11",
                    "explanation": {"summary": "satisfaction 45.5 = baseline 75.0 - complaint penalty 29.5 ..."},
                }
            ]
        },
    )

    customer_id: uuid.UUID
    satisfaction: float = Field(ge=0, le=100)
    health: float = Field(ge=0, le=100)
    band: Band
    model_version: str
    updated_at: datetime = Field(description="When the score last changed.")
    last_event_id: uuid.UUID | None = Field(description="The last event folded into the inputs.")
    explanation: dict[str, Any]


class ScoreHistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID
    satisfaction: float
    health: float
    band: Band
    previous_satisfaction: float | None
    previous_health: float | None
    previous_band: Band | None
    cause_event_id: uuid.UUID
    cause_event_type: str
    model_version: str
    explanation: dict[str, Any]
    computed_at: datetime


class ScoreHistoryPage(BaseModel):
    items: list[ScoreHistoryRead]
    next_cursor: str | None
