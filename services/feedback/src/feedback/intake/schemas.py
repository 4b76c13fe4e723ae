from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_shared.contracts.vocabulary import CATEGORY_CODES, Channel, FeedbackType, Severity
from crm_shared.http.schemas import RequestModel


class CallerIdentity(RequestModel):
    """How a call centre identifies a caller when it does not know the customer id."""

    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        if not self.phone and not self.email:
            raise ValueError("give the caller's phone or email")
        return self


class FeedbackCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "customer": {"phone": "+1 415 555 0100"},
                    "type": "complaint",
                    "category": "service.delivery",
                    "severity": "high",
                    "channel": "phone",
                    "description": "Third late delivery this month; production line stopped.",
                    "external_ref": "CC-2026-118842",
                }
            ]
        },
    )

    customer_id: uuid.UUID | None = None
    customer: CallerIdentity | None = None
    type: FeedbackType
    category: str | None = Field(
        default=None,
        description="`<group>.<indicator>`: product.(quality|function|features|design|reliability|price_performance), "
        "service.(delivery|complaint_handling|commercial_dispute|problem_resolution), "
        "purchase.(courtesy|communication|information|transaction|time).",
    )
    severity: Severity | None = Field(default=None, description="Required for complaints.")
    channel: Channel
    description: str = Field(min_length=1, max_length=10_000)
    external_ref: str | None = Field(default=None, max_length=200, description="The source system's reference.")

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in CATEGORY_CODES:
            raise ValueError(f"unknown category; use one of: {', '.join(sorted(CATEGORY_CODES))}")
        return value

    @model_validator(mode="after")
    def _customer_and_severity(self) -> Self:
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give exactly one of customer_id or customer (phone/email)")
        if self.type is FeedbackType.complaint and self.severity is None:
            raise ValueError("severity is required for a complaint")
        return self


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID
    type: FeedbackType
    category: str | None
    severity: Severity
    channel: Channel
    description: str
    external_ref: str | None
    status: str
    customer_tier: str
    received_at: datetime


class FeedbackPage(BaseModel):
    items: list[FeedbackRead]
    next_cursor: str | None
