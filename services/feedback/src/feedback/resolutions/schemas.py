from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from crm_shared.http.schemas import RequestModel

CAUSE_CODE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$"


class CompensationIn(RequestModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"amount": "150.00", "currency": "EUR"}]})

    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2, description="What the customer is given.")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code.", examples=["EUR"])


class ResolutionIn(RequestModel):
    """Required with `to: resolved` on a complaint. Fields are checked together, so a refusal names
    every missing one at once."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "cause_code": "delivery.late",
                    "remedy": "Replacement shipped by express courier; delivery slot confirmed.",
                    "compensation": {"amount": "150.00", "currency": "EUR"},
                }
            ]
        },
    )

    cause_code: str | None = Field(default=None, max_length=60, description="A code of `GET /v1/cause-codes`.")
    remedy: str | None = Field(default=None, max_length=5_000, description="What was done to put it right.")
    compensation: CompensationIn | None = Field(default=None, description="Left out: no compensation.")


class CompensationRead(BaseModel):
    amount: Decimal
    currency: str
    approved: bool
    approved_by: str | None
    approved_at: datetime | None
    paid_on: date | None


class ResolutionRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "feedback_id": "0190f3a4-5c2d-7f10-8a3b-1d2e3f4a5b6c",
                    "cause_code": "delivery.late",
                    "cause_label": "Late delivery",
                    "remedy": "Replacement shipped by express courier.",
                    "compensation": {
                        "amount": "150.00",
                        "currency": "EUR",
                        "approved": True,
                        "approved_by": "maria",
                        "approved_at": "2026-03-02T10:00:00Z",
                        "paid_on": "2026-03-05",
                    },
                    "resolved_by": "alice",
                    "resolved_at": "2026-03-01T16:30:00Z",
                }
            ]
        }
    )

    feedback_id: uuid.UUID
    cause_code: str
    cause_label: str
    remedy: str
    compensation: CompensationRead | None
    resolved_by: str
    resolved_at: datetime


class PaymentIn(RequestModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"paid_on": "2026-03-05"}]})

    paid_on: date = Field(description="The day the compensation reached the customer.")


class CauseCodeIn(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"label": "Late delivery", "description": "Carrier or warehouse delay."}]},
    )

    label: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2_000)
    active: StrictBool = Field(
        default=True, description="False: no longer offered for new resolutions (old ones keep it)."
    )


class CauseCodeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    label: str
    description: str | None
    active: bool
    updated_by: str
    updated_at: datetime


class CauseCodeList(BaseModel):
    items: list[CauseCodeRead]
