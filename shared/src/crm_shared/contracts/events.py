"""Event payloads, topics and the registry that ties a type name to its payload model."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.contracts.vocabulary import (
    Band,
    Channel,
    CreditStanding,
    FeedbackType,
    LifecycleStage,
    Severity,
    Tier,
)


class Topics:
    """One topic per producing service; key = customer id keeps a customer's events in order."""

    contacts = "crm.contacts"
    feedback = "crm.feedback"
    scores = "crm.scores"
    outreach = "crm.outreach"

    @classmethod
    def all(cls) -> list[str]:
        return [cls.contacts, cls.feedback, cls.scores, cls.outreach]


def dead_letter_topic(consumer: str) -> str:
    """Each consumer group has its own dead-letter topic, so replay goes back to one consumer."""
    return f"crm.dlq.{consumer}"


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class _CustomerCard(_Payload):
    """The customer card every contact event carries whole, so consumers need not call back."""

    customer_id: uuid.UUID
    name: str
    email: str | None = None
    phone: str | None = None
    tier: Tier
    owner: str | None = Field(default=None, description="Account manager responsible for the customer.")
    lifecycle_stage: LifecycleStage = LifecycleStage.customer
    credit_standing: CreditStanding = CreditStanding.good


class ContactCreatedV1(_CustomerCard):
    """A new customer record."""

    created_at: datetime


class ContactUpdatedV1(_CustomerCard):
    """A customer record changed: the card as it now is, and which fields changed."""

    version: int = Field(description="The record's version after the change (its ETag).")
    changed: list[str] = Field(description="Names of the fields this change set.", examples=[["tier", "owner"]])
    updated_at: datetime


class CustomerRef(_Payload):
    """The customer as the producer saw it when the event happened (event-carried state)."""

    tier: Tier
    owner: str | None = None


class FeedbackReceivedV1(_Payload):
    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    type: FeedbackType
    category: str | None = Field(default=None, examples=["service.delivery"])
    severity: Severity
    channel: Channel
    received_at: datetime
    customer: CustomerRef


class ScoreValues(_Payload):
    satisfaction: float = Field(ge=0, le=100)
    health: float = Field(ge=0, le=100)
    band: Band


class ScoreChangedV1(_Payload):
    customer_id: uuid.UUID
    model_version: str
    previous: ScoreValues | None
    current: ScoreValues
    band_from: Band | None
    band_to: Band
    cause_event_id: uuid.UUID
    cause_event_type: str
    computed_at: datetime


class TaskCreatedV1(_Payload):
    task_id: uuid.UUID
    customer_id: uuid.UUID
    type: str = Field(examples=["service_recovery"])
    playbook: str
    priority: str
    due_at: datetime
    assignee: str
    cause_event_id: uuid.UUID


EVENT_PAYLOADS: dict[str, type[BaseModel]] = {
    "crm.contact.created.v1": ContactCreatedV1,
    "crm.contact.updated.v1": ContactUpdatedV1,
    "crm.feedback.received.v1": FeedbackReceivedV1,
    "crm.score.changed.v1": ScoreChangedV1,
    "crm.task.created.v1": TaskCreatedV1,
}
