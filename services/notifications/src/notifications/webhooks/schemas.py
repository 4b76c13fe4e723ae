from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm_shared.contracts.events import EVENT_PAYLOADS
from crm_shared.http.schemas import RequestModel
from notifications.outbound import signing
from notifications.outbound.attempts import AttemptRead

DeliveryStatus = Literal["queued", "sending", "retrying", "delivered", "dead", "cancelled"]
EventPattern = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[a-z0-9_.]+(\.\*)?$|^\*$")]


class WebhookCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "url": "https://erp.example/hooks/crm",
                    "event_types": ["crm.feedback.*", "crm.contact.erased.v1"],
                    "description": "ERP: complaints and erasures",
                }
            ]
        },
    )

    url: str = Field(max_length=2000, pattern=r"^https?://[^\s/?#]+[^\s]*$", description="http(s) URL to POST to.")
    event_types: list[EventPattern] = Field(
        min_length=1,
        max_length=50,
        description="Exact event types (`crm.contact.erased.v1`), prefixes (`crm.feedback.*`) or `*` (all).",
    )
    description: str | None = Field(default=None, max_length=500)

    @field_validator("url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        return signing.checked_url(value)

    @field_validator("event_types")
    @classmethod
    def _known_types(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if pattern == "*" or pattern.endswith(".*"):
                prefix = pattern[:-1]
                if not any(t.startswith(prefix) for t in EVENT_PAYLOADS) and pattern != "*":
                    raise ValueError(f"no event type starts with {prefix!r}")
            elif pattern not in EVENT_PAYLOADS:
                raise ValueError(f"unknown event type {pattern!r}")
        return list(dict.fromkeys(patterns))


class WebhookRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "9a1c2f3e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
                    "url": "https://erp.example/hooks/crm",
                    "event_types": ["crm.feedback.*"],
                    "description": "ERP: complaints",
                    "created_by": "admin",
                    "created_at": "2026-11-22T10:15:02Z",
                }
            ]
        },
    )

    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    created_by: str
    created_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="Signing secret (`whsec_` + base64, Standard Webhooks). Shown only in this answer: store it.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class WebhookPage(BaseModel):
    items: list[WebhookRead]
    next_cursor: str | None


class DeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID = Field(description="Also the `webhook-id` header: the receiver's deduplication key.")
    event_type: str
    status: DeliveryStatus
    status_reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None
    attempts_log: list[AttemptRead] = Field(default_factory=list)


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None


@dataclass
class DeliveryFilters:
    status: DeliveryStatus | None = None
    limit: Annotated[int, Query(ge=1, le=200)] = 50
    cursor: Annotated[str | None, Query(min_length=1, max_length=500)] = None


@dataclass
class WebhookFilters:
    limit: Annotated[int, Query(ge=1, le=200)] = 50
    cursor: Annotated[str | None, Query(min_length=1, max_length=500)] = None
