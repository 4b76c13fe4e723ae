from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from fastapi import Query
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from crm_shared.contracts.events import ActivityDetails
from crm_shared.http.query import IsoDateTime
from crm_shared.http.schemas import RequestModel


class ActivityKind(StrEnum):
    order = "order"
    contract = "contract"
    visit = "visit"
    call = "call"


# ISO 4217 codes are upper case; "eur" is taken as "EUR" rather than refused.
Currency = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z]{3}$"),
]


def _plain(amount: Decimal) -> Decimal:
    """`1E+3` is stored and shown as `1000`: events and reads carry plain decimals."""
    exponent = amount.as_tuple().exponent  # a letter only for NaN and infinity, which Money refuses
    return amount.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else amount


# Fits the numeric(20, 4) columns: amounts up to 16 whole digits, 4 decimals (BHD, KWD use 3).
Money = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=4), AfterValidator(_plain)]
# A calendar day a contract can plausibly start or end on; the bounds keep date arithmetic safe.
ContractDay = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2199, 12, 31))]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]

# Clocks of source systems drift; anything later than this is not history yet.
FUTURE_TOLERANCE = timedelta(days=1)


class OrderDetails(RequestModel):
    kind: Literal["order"]
    amount: Money = Field(examples=["1250.00"])
    currency: Currency = Field(description="ISO 4217 code, upper case.", examples=["EUR"])
    products: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=200, examples=[["pump-x200", "service-kit"]]
    )


class ContractDetails(RequestModel):
    kind: Literal["contract"]
    starts_on: ContractDay = Field(examples=["2025-01-01"])
    ends_on: ContractDay | None = Field(
        default=None, description="Last day covered; null for an open-ended contract.", examples=["2025-12-31"]
    )
    renewal_of: uuid.UUID | None = Field(
        default=None, description="The contract activity (of the same customer) this one renews."
    )
    annual_value: Money | None = Field(default=None, examples=["48000.00"])
    currency: Currency | None = Field(default=None, description="ISO 4217 code of `annual_value`.", examples=["EUR"])

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if value is not None and starts_on is not None and value < starts_on:
            raise ValueError("ends_on must not be before starts_on")
        return value

    @field_validator("currency")
    @classmethod
    def _currency_of_a_value(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("annual_value") is not None:
            raise ValueError("currency is required with annual_value")
        return value


class VisitFinding(RequestModel):
    rating: int = Field(ge=1, le=5, strict=True, description="1 (very poor) to 5 (very good).", examples=[4])
    comment: str | None = Field(default=None, max_length=1000, examples=["deliveries late twice this quarter"])


class VisitDetails(RequestModel):
    kind: Literal["visit"]
    purpose: str | None = Field(default=None, max_length=500, examples=["yearly review with senior management"])
    visited_by: ShortText | None = Field(default=None, examples=["ceo"])
    findings: dict[Literal["quality", "service", "sales_policy", "staff"], VisitFinding] | None = Field(
        default=None,
        min_length=1,
        description="A key-account visit's findings: what the customer said about product quality, service, "
        "sales policy and staff, each rated 1-5 with a comment. They feed the satisfaction score "
        "(docs/domain.md#the-key-account-programme).",
        examples=[{"quality": {"rating": 4}, "service": {"rating": 2, "comment": "slow call backs"}}],
    )


class CallDetails(RequestModel):
    kind: Literal["call"]
    direction: Literal["inbound", "outbound"] = "outbound"
    duration_seconds: int | None = Field(default=None, ge=0, le=86_400, examples=[420])
    handled_by: ShortText | None = Field(default=None, examples=["agent-7"])


ActivityDetailsIn = Annotated[OrderDetails | ContractDetails | VisitDetails | CallDetails, Field(discriminator="kind")]


class ActivityCreate(RequestModel):
    """One activity to record; `external_ref` makes re-sending (or re-importing) it harmless."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "occurred_at": "2025-03-14T10:00:00Z",
                    "details": {"kind": "order", "amount": "1250.00", "currency": "EUR", "products": ["pump-x200"]},
                    "external_ref": "erp:SO-1001",
                },
                {
                    "occurred_at": "2025-01-02T09:00:00Z",
                    "details": {"kind": "contract", "starts_on": "2025-01-01", "ends_on": "2025-12-31"},
                },
            ]
        },
    )

    occurred_at: AwareDatetime = Field(description="When it happened, with a time zone.")
    details: ActivityDetailsIn
    external_ref: ShortText | None = Field(
        default=None,
        description="The source system's reference; an activity already recorded with it for this "
        "customer is returned (200) instead of recorded twice.",
        examples=["erp:SO-1001"],
    )

    @field_validator("occurred_at")
    @classmethod
    def _is_history(cls, value: datetime) -> datetime:
        if value < datetime(1900, 1, 1, tzinfo=UTC):  # compared, not converted: year 1 at +01:00 has no UTC
            raise ValueError("occurred_at must be in 1900 or later")
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError("occurred_at must not be in the future")
        return value


class ActivityRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7e8f7c-3f55-4a39-9a57-2f0d6c1f6a10",
                    "customer_id": "5f1c2a8e-2d7b-4c1e-8f35-6f3b9d0a7e21",
                    "occurred_at": "2025-03-14T10:00:00Z",
                    "details": {"kind": "order", "amount": "1250.00", "currency": "EUR", "products": ["pump-x200"]},
                    "external_ref": "erp:SO-1001",
                    "recorded_by": "erp-sync",
                    "recorded_at": "2025-03-14T10:00:02Z",
                }
            ]
        },
    )

    id: uuid.UUID
    customer_id: uuid.UUID
    occurred_at: datetime
    details: ActivityDetails
    external_ref: str | None
    recorded_by: str = Field(description="Subject of the token that recorded it.")
    recorded_at: datetime


class ActivityPage(BaseModel):
    items: list[ActivityRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")


@dataclass
class ActivityFilters:
    """The filters of GET /v1/customers/{id}/activities (a dependency, so the strict query check sees them)."""

    kind: ActivityKind | None = None
    since: Annotated[
        IsoDateTime | None, Query(description="Only activities that occurred at or after this time (UTC if no zone).")
    ] = None
