from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.http.schemas import RequestModel

Priority = Literal["low", "medium", "high", "critical"]
ItemStatus = Literal["open", "planned", "done", "declined"]


class BacklogItemRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f3a4-8f30-7c75-9d30-4b0a2e8d3c33",
                    "theme_key": "pump-x200|product.features",
                    "product": "pump-x200",
                    "category": "product.features",
                    "title": "pump-x200: product.features",
                    "priority": "high",
                    "status": "planned",
                    "votes": 3,
                    "created_at": "2026-03-01T09:00:00Z",
                    "updated_at": "2026-03-04T11:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    theme_key: str = Field(description="What made the suggestions similar: `<product or *>|<category>`.")
    product: str | None
    category: str | None
    title: str
    priority: Priority
    status: ItemStatus
    votes: int = Field(description="Distinct customers who suggested it.")
    created_at: datetime
    updated_at: datetime


class SuggestionLinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    linked_by: str = Field(description="`system` (same theme) or the staff member who linked it.")
    linked_at: datetime


class BacklogItemDetail(BacklogItemRead):
    suggestions: list[SuggestionLinkRead]


class BacklogList(BaseModel):
    items: list[BacklogItemRead] = Field(description="Most votes first.")


class BacklogItemPatch(RequestModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{"priority": "high"}]}
    )

    title: str | None = Field(default=None, min_length=1, max_length=300)
    priority: Priority | None = None
    status: ItemStatus | None = None


class SuggestionLinkIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    feedback_id: uuid.UUID = Field(description="The suggestion to put on this item (it leaves its current item).")
