"""Campaign requests and reports (docs/domain.md#survey-campaigns)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crm_shared.contracts.vocabulary import CATEGORY_CODES, LifecycleStage, SurveyMetric, Tier
from crm_shared.http.schemas import RequestModel

CampaignKind = Literal["survey", "newsletter", "service_summary"]
# The template each kind sends unless the campaign names another.
DEFAULT_TEMPLATE = {"survey": "survey_invitation", "newsletter": "newsletter", "service_summary": "service_summary"}
MAX_QUESTIONS = 30


class Segment(RequestModel):
    """Who the campaign reaches: every condition given must hold (an empty segment is everyone)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"tier": ["key", "gold"], "region": ["EMEA"], "lifecycle": ["customer"]}]},
    )

    tier: list[Tier] | None = Field(default=None, min_length=1, max_length=4)
    region: list[str] | None = Field(default=None, min_length=1, max_length=50)
    industry: list[str] | None = Field(default=None, min_length=1, max_length=50)
    lifecycle: list[LifecycleStage] | None = Field(default=None, min_length=1, max_length=6)
    product: str | None = Field(
        default=None, min_length=1, max_length=100, description="Customers who ordered this product code."
    )
    last_contact_before: datetime | None = Field(
        default=None, description="Last recorded activity (order, contract, visit, call) before this time, or none."
    )
    last_contact_after: datetime | None = Field(default=None, description="Last recorded activity at or after this.")

    @field_validator("last_contact_before", "last_contact_after", mode="before")
    @classmethod
    def _iso_text(cls, value: object) -> object:
        # Pydantic alone would read a number as a Unix time: a typo would quietly mean 1970.
        if value is not None and not isinstance(value, str | datetime):
            raise ValueError("give an ISO 8601 date-time, e.g. 2026-06-01T00:00:00Z")
        return value

    @field_validator("last_contact_before", "last_contact_after")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-06-01T00:00:00Z")
        return value


class Question(RequestModel):
    """One question of a questionnaire: its answers are reported under its `category`'s indicator
    group (product / service / purchase) and sub-indicator."""

    key: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$", examples=["q1"])
    text: str = Field(min_length=1, max_length=500, examples=["How satisfied are you with our delivery times?"])
    metric: SurveyMetric
    category: str | None = Field(default=None, examples=["service.delivery"])

    @field_validator("category")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is not None and value not in CATEGORY_CODES:
            raise ValueError(f"unknown category; use one of: {', '.join(sorted(CATEGORY_CODES))}")
        return value


class CampaignCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Half-year user forum 2026-H2",
                    "kind": "survey",
                    "channel": "email",
                    "segment": {"tier": ["key"]},
                    "link_base": "https://survey.example.com/s",
                    "questionnaire": [
                        {"key": "q1", "text": "Product quality?", "metric": "csat", "category": "product.quality"},
                        {"key": "q2", "text": "Delivery?", "metric": "csat", "category": "service.delivery"},
                        {"key": "q3", "text": "Recommend us?", "metric": "nps"},
                    ],
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200)
    kind: CampaignKind
    channel: Literal["email", "sms"] = "email"
    template: str | None = Field(
        default=None, min_length=1, max_length=60, description="Defaults by kind: survey_invitation, newsletter, ..."
    )
    segment: Segment = Field(default_factory=Segment)
    questionnaire: list[Question] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    link_base: str | None = Field(
        default=None,
        max_length=1000,
        pattern=r"^https?://\S+$",
        description="The survey tool's address: each invitation links to `<link_base>?invitation=<id>`.",
    )
    text: str | None = Field(default=None, max_length=20_000, description="The body of a newsletter or summary.")

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        if self.kind == "survey" and not self.questionnaire:
            raise ValueError("a survey needs a questionnaire (at least one question)")
        if self.kind != "survey" and self.questionnaire:
            raise ValueError("only a survey has a questionnaire")
        keys = [q.key for q in self.questionnaire]
        if len(set(keys)) != len(keys):
            raise ValueError("question keys must be unique")
        return self


class SkipCount(BaseModel):
    reason: str = Field(examples=["no consent for email"])
    customers: int


class CampaignRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: CampaignKind
    channel: str
    template: str
    segment: dict[str, object]
    questionnaire: list[dict[str, object]]
    link_base: str | None
    audience: int = Field(description="Customers in the segment when it was sent.")
    invited: int = Field(description="Invitations queued for delivery (consent, quiet hours and language apply).")
    skipped: int = Field(description="Customers of the segment not invited, each with a reason (see the report).")
    created_by: str
    created_at: datetime


class CampaignPage(BaseModel):
    items: list[CampaignRead]


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The token of the survey link: answers name it as `invitation_id`.")
    campaign_id: uuid.UUID
    customer_id: uuid.UUID
    status: Literal["invited", "skipped"]
    skip_reason: str | None
    message_id: uuid.UUID | None
    message_status: str | None = Field(default=None, description="Of its message: queued, sent, suppressed, ...")
    responded_at: datetime | None


class InvitationPage(BaseModel):
    items: list[InvitationRead]
    next_cursor: str | None


class MetricResult(BaseModel):
    answers: int
    average: float = Field(description="Mean score on the metric's own scale.")
    nps: float | None = Field(default=None, description="For NPS: % promoters (9-10) minus % detractors (0-6).")


class GroupResult(BaseModel):
    """Results of one indicator group (product, service, purchase; `overall` for questions without a category)."""

    answers: int
    metrics: dict[str, MetricResult] = Field(description="By metric (csat, nps, ces).")
    categories: dict[str, dict[str, MetricResult]] = Field(
        description="By sub-indicator (`service.delivery`, ...), then by metric."
    )


class CampaignReport(BaseModel):
    campaign: CampaignRead
    delivery: dict[str, int] = Field(description="Invitations by message status (queued, sent, suppressed, ...).")
    skipped: list[SkipCount]
    responded: int = Field(description="Invitations with at least one answer.")
    response_rate: float | None = Field(
        description="Responded / messages sent (null while none is sent): what share of those reached answered."
    )
    groups: dict[str, GroupResult] = Field(description="Results per indicator group: product, service, purchase.")
