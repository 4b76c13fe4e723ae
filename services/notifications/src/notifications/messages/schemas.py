from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from crm_shared import access
from crm_shared.http.schemas import RequestModel
from notifications.messages.templates import FALLBACK_LANGUAGE, free_text_problems, unknown_placeholders
from notifications.outbound.attempts import AttemptRead

MessageStatus = Literal["queued", "scheduled", "sending", "retrying", "sent", "suppressed", "dead"]
Channel = Literal["email", "sms", "webhook"]
TemplateKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,59}$")]
StaffName = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\s/][^/]*$")]


class MessageCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "6f1c8a50-3f7e-4f4f-9a53-0d3c1c7f2b10",
                    "channel": "email",
                    "template": "satisfaction_survey",
                    "data": {"feedback_id": "0b8e5a8e-5d55-4c1a-8a43-7d2e8f0f4a11"},
                }
            ]
        },
    )

    customer_id: uuid.UUID
    channel: Literal["email", "sms"]
    template: TemplateKey
    data: dict[Annotated[str, StringConstraints(max_length=50)], str | int | float | bool | None] = Field(
        default_factory=dict,
        max_length=50,
        description="Values for the template's `{{data.*}}` placeholders, and only those: a plain placeholder "
        "takes a short token (id, number, date; no spaces, at most 100 characters); free text only where the "
        "template declares it, `{{data.note|text:300}}`, up to that length. Anything else is a 422.",
    )


class MessageRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "1d7f9c1e-4a55-4e9b-8d3c-2f0e6b7a9c10",
                    "customer_id": "6f1c8a50-3f7e-4f4f-9a53-0d3c1c7f2b10",
                    "audience": "customer",
                    "recipient": "customer",
                    "channel": "email",
                    "template": "satisfaction_survey",
                    "language": "de",
                    "to_address": "ops@acme.example",
                    "subject": "Wie zufrieden waren Sie, Acme Logistics?",
                    "body": "Guten Tag Acme Logistics, ...",
                    "status": "sent",
                    "status_reason": None,
                    "attempts": 1,
                    "next_attempt_at": None,
                    "trigger_event_id": "0b8e5a8e-5d55-4c1a-8a43-7d2e8f0f4a11",
                    "trigger_event_type": "crm.feedback.status_changed.v1",
                    "playbook": "closed_loop",
                    "action_key": "survey_email",
                    "correlation_id": "5d7c2e1a-0000-4000-8000-000000000001",
                    "created_at": "2026-11-22T10:15:02Z",
                    "updated_at": "2026-11-22T10:15:02Z",
                    "sent_at": "2026-11-22T10:15:02Z",
                }
            ]
        },
    )

    id: uuid.UUID
    customer_id: uuid.UUID | None
    audience: Literal["customer", "staff", "system"]
    recipient: str = Field(description="`customer`, `owner`, `team_lead`, `manager`, `user:<name>` or a URL.")
    channel: Channel
    template: str | None
    language: str | None = Field(description="The template variant used (set at the first attempt).")
    to_address: str | None
    subject: str | None
    body: str | None
    status: MessageStatus = Field(
        description="`scheduled`: held for the customer's quiet hours until `next_attempt_at`; `retrying`: "
        "failed, next try at `next_attempt_at`; `suppressed`: not sent on purpose (no consent, no address, "
        "customer erased; see `status_reason`); `dead`: retries used up, re-queue with POST .../retry."
    )
    status_reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    trigger_event_id: uuid.UUID
    trigger_event_type: str
    playbook: str
    action_key: str
    correlation_id: str
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None

    @model_validator(mode="after")
    def _personal_data_by_scope(self) -> Self:
        """Without `contacts:read` the address is masked and a customer's message (it greets them by
        name) shows no subject or body (crm_shared.access)."""
        reach = access.current()
        if not reach.personal_data:
            self.to_address = reach.shown_address(self.to_address)
            if self.audience == "customer":
                self.subject = self.body = None
        return self


class MessageDetail(MessageRead):
    attempts_log: list[AttemptRead] = Field(description="The delivery log, oldest first.")


class MessagePage(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None


@dataclass
class MessageFilters:
    customer_id: uuid.UUID | None = None
    status: MessageStatus | None = None
    channel: Channel | None = None
    limit: Annotated[int, Query(ge=1, le=200)] = 50
    cursor: Annotated[str | None, Query(min_length=1, max_length=500)] = None


class TemplateVariant(RequestModel):
    subject: str = Field(default="", max_length=500)
    body: str = Field(min_length=1, max_length=20_000)

    @field_validator("subject", "body")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        if unknown := unknown_placeholders(value):
            raise ValueError(f"unknown placeholder(s) {', '.join(unknown)}: use customer.*, event.*, data.* or staff.*")
        if problems := free_text_problems(value):
            raise ValueError("; ".join(problems))
        return value


LanguageKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")]


class TemplatePut(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "variants": {
                        "en": {"subject": "How did we do?", "body": "Dear {{customer.name}}, ..."},
                        "de": {"subject": "Wie war es?", "body": "Guten Tag {{customer.name}}, ..."},
                    }
                }
            ]
        },
    )

    variants: dict[LanguageKey, TemplateVariant] = Field(
        min_length=1, max_length=50, description=f"Per BCP 47 language; `{FALLBACK_LANGUAGE}` is required (fallback)."
    )

    @field_validator("variants")
    @classmethod
    def _has_fallback(cls, value: dict[str, TemplateVariant]) -> dict[str, TemplateVariant]:
        if FALLBACK_LANGUAGE not in value:
            raise ValueError(f"a '{FALLBACK_LANGUAGE}' variant is required: it is the fallback for every language")
        return value


class TemplateRead(BaseModel):
    key: str
    variants: dict[str, dict[str, str]]
    version: int = Field(description="0: the shipped default; each PUT adds one.")
    updated_by: str | None
    updated_at: datetime | None


class TemplateList(BaseModel):
    items: list[TemplateRead]


class StaffPut(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"email": "alice@crm.example", "role": "agent", "reports_to": "tom"}]},
    )

    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=32, pattern=r"^\+?[0-9 ()-]{3,31}$")
    role: Literal["agent", "team_lead", "manager", "service_manager"] | None = Field(
        default=None, description="`service_manager`: who gets the management tasks of indicator alerts and themes."
    )
    reports_to: StaffName | None = Field(default=None, description="Whose team this person is in (team lead, manager).")


class StaffRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    email: str | None
    phone: str | None
    role: str | None
    reports_to: str | None
    updated_at: datetime

    @model_validator(mode="after")
    def _addresses_by_scope(self) -> Self:
        """Without `contacts:read`, staff addresses show masked (`a***@crm.example`)."""
        reach = access.current()
        self.email, self.phone = reach.shown_address(self.email), reach.shown_address(self.phone)
        return self


class StaffList(BaseModel):
    items: list[StaffRead]


def message_read(message: Any) -> MessageRead:
    return MessageRead.model_validate(message)
