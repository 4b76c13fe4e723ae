from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from crm_shared import access
from crm_shared.contracts.vocabulary import CATEGORY_CODES, Channel, FeedbackType, Severity, SurveyMetric
from crm_shared.http.schemas import RequestModel


class CallerIdentity(RequestModel):
    """How a call centre identifies a caller when it does not know the customer id."""

    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="The caller's name: with it, a caller unknown to contacts becomes a new lead there; "
        "without it, the feedback is held unmatched until the customer appears.",
    )

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        if not self.phone and not self.email:
            raise ValueError("give the caller's phone or email")
        return self


SCORE_RANGES = {SurveyMetric.csat: (1, 5), SurveyMetric.nps: (0, 10), SurveyMetric.ces: (1, 7)}


class SurveyAnswerIn(RequestModel):
    """One measured answer: satisfaction is measured, not guessed (docs/domain.md#measuring-satisfaction)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"metric": "nps", "score": 9}]})

    metric: SurveyMetric
    score: int = Field(description="CSAT 1-5, NPS 0-10, CES 1-7.")

    @model_validator(mode="after")
    def _score_in_range(self) -> Self:
        low, high = SCORE_RANGES[self.metric]
        if not low <= self.score <= high:
            raise ValueError(f"a {self.metric.value} score is {low} to {high}")
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
                    "source_system": "callcentre",
                    "external_ref": "CC-2026-118842",
                    "product": "PRT-4400",
                },
                {
                    "customer": {"email": "ops@acme.example"},
                    "type": "survey_response",
                    "channel": "survey",
                    "survey": {"metric": "csat", "score": 2},
                    "related_feedback_id": "0b9f7f4e-3c1e-4d5a-9a57-1f3c2b7a9e10",
                    "source_system": "surveytool",
                    "external_ref": "S-77120",
                },
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
    description: str = Field(
        default="",
        validate_default=True,
        max_length=10_000,
        description="What the customer said; may be left out only for a survey_response.",
    )
    source_system: str | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="The system the feedback comes from (`callcentre`, `webshop`, ...): `external_ref` is unique "
        "within it (references sent without a system share one namespace).",
        examples=["callcentre"],
    )
    external_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The source system's reference. The same (`source_system`, `external_ref`) sent again returns "
        "the feedback first stored (200) and records nothing new.",
        examples=["CC-2026-118842"],
    )
    product: str | None = Field(
        default=None, min_length=1, max_length=100, description="Product code, for reports.", examples=["PRT-4400"]
    )
    survey: SurveyAnswerIn | None = Field(default=None, description="Required for (and only for) a survey_response.")
    related_feedback_id: uuid.UUID | None = Field(
        default=None, description="The customer's earlier feedback (typically the complaint) this answer is about."
    )
    invitation_id: uuid.UUID | None = Field(
        default=None,
        description="A survey_response to a campaign: the invitation id its link carried. The campaign counts "
        "the response and reports the answer by indicator group (docs/domain.md#survey-campaigns).",
    )
    question: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="The questionnaire's question key this answer is for (one answer per question).",
        examples=["q1"],
    )

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        if value is not None and value not in CATEGORY_CODES:
            raise ValueError(f"unknown category; use one of: {', '.join(sorted(CATEGORY_CODES))}")
        return value

    @field_validator("description", mode="after")
    @classmethod
    def _described(cls, value: str, info: ValidationInfo) -> str:
        """A survey answer is its score; anything else without words tells nobody anything."""
        if not value and info.data.get("type") is not FeedbackType.survey_response:
            raise ValueError("a description is required (it may be empty only for a survey_response)")
        return value

    @model_validator(mode="after")
    def _customer_and_severity(self) -> Self:
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give exactly one of customer_id or customer (phone/email)")
        if self.type is FeedbackType.complaint and self.severity is None:
            raise ValueError("severity is required for a complaint")
        if (self.type is FeedbackType.survey_response) != (self.survey is not None):
            raise ValueError("a survey_response needs `survey` ({metric, score}); other kinds take none")
        if (self.invitation_id is not None or self.question is not None) and self.survey is None:
            raise ValueError("`invitation_id` and `question` belong to a survey_response")
        return self


# What an analyst reads instead of free text written by or about the customer.
PSEUDONYMISED_TEXT = "[withheld: pseudonymised view]"


class SurveyAnswerRead(BaseModel):
    metric: SurveyMetric
    score: int


class CallerRead(BaseModel):
    email: str | None
    phone: str | None

    @model_validator(mode="after")
    def _masked_by_scope(self) -> Self:
        """Without `contacts:read` an unmatched caller's email and phone show masked."""
        reach = access.current()
        self.email, self.phone = reach.shown_address(self.email), reach.shown_address(self.phone)
        return self


class FeedbackRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID | None = Field(description="null while unmatched (caller unknown to contacts).")
    type: FeedbackType
    category: str | None
    severity: Severity
    channel: Channel
    description: str
    external_ref: str | None
    source_system: str | None = None
    product: str | None = None
    survey: SurveyAnswerRead | None = None
    related_feedback_id: uuid.UUID | None = None
    invitation_id: uuid.UUID | None = None
    question: str | None = None
    caller: CallerRead | None = Field(default=None, description="Set only while unmatched.")
    status: str
    customer_tier: str
    received_at: datetime

    @model_validator(mode="after")
    def _pseudonymised_for_analysts(self) -> Self:
        """An analyst's reach sees the facts, not the customer's own words (they may name people)."""
        if access.current().pseudonymised:
            self.description = PSEUDONYMISED_TEXT
            self.caller = None
        return self


class FeedbackPage(BaseModel):
    items: list[FeedbackRead]
    next_cursor: str | None


MAX_BATCH = 1000


class FeedbackBatch(RequestModel):
    """Items are checked one by one (a bad item gets its own error, the others are stored), so the
    schema takes any JSON value per item; each must be a `FeedbackCreate`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "customer": {"phone": "+1 415 555 0100"},
                            "type": "complaint",
                            "category": "service.delivery",
                            "severity": "high",
                            "channel": "phone",
                            "description": "Third late delivery this month.",
                            "source_system": "callcentre",
                            "external_ref": "CC-2026-118842",
                        }
                    ]
                }
            ]
        },
    )

    items: list[Any] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"Up to {MAX_BATCH} `FeedbackCreate` bodies."
    )

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        """Replaces the base check: a NUL in one item is that item's error, not the whole batch's."""
        return value


class BatchItemResult(BaseModel):
    index: int = Field(description="Position of the item in `items`.")
    status: int = Field(
        description="201 stored, 200 already stored (same source reference), 422 invalid, 503 retry it.",
        examples=[201],
    )
    feedback: FeedbackRead | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Problem-style field errors (`field`, `message`, `code`) when nothing was stored."
    )
    problem: dict[str, Any] | None = Field(default=None, description="The item's problem details when not stored.")


class BatchResult(BaseModel):
    results: list[BatchItemResult]
