"""Event payloads, topics and the registry that ties a type name to its payload model."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.contracts.vocabulary import (
    Band,
    CaseStatus,
    Channel,
    CreditStanding,
    FeedbackType,
    LifecycleStage,
    Severity,
    SurveyMetric,
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
    owner_team: str | None = Field(
        default=None, description="Account team owning the customer (record-level access).", examples=["kam-emea"]
    )
    partner: str | None = Field(
        default=None,
        description="Partner (distributor, supplier) the customer is assigned to (record-level access).",
        examples=["distributor-nordics"],
    )
    lifecycle_stage: LifecycleStage = LifecycleStage.customer
    credit_standing: CreditStanding = CreditStanding.good
    region: str | None = Field(default=None, description="Sales region, for reports by region.", examples=["EMEA"])
    industry: str | None = Field(default=None, description="For indicators by industry.", examples=["logistics"])
    consent: dict[str, bool] = Field(
        default_factory=dict,
        description="Channel consent (email, phone, sms, ...): outreach only where true.",
        examples=[{"email": True, "sms": False}],
    )
    language: str | None = Field(default=None, description="BCP 47 language for messages.", examples=["de"])
    timezone: str | None = Field(
        default=None, description="IANA time zone, for quiet hours.", examples=["Europe/Berlin"]
    )
    entitlements: list[str] = Field(
        default_factory=list,
        description="What the customer is entitled to (priority supply, free delivery, ...), for an ERP to read.",
        examples=[["priority_supply", "free_delivery"]],
    )


class ContactCreatedV1(_CustomerCard):
    """A new customer record."""

    created_at: datetime


class ContactUpdatedV1(_CustomerCard):
    """A customer record changed: the card as it now is, and which fields changed."""

    version: int = Field(description="The record's version after the change (its ETag).")
    changed: list[str] = Field(description="Names of the fields this change set.", examples=[["tier", "owner"]])
    updated_at: datetime


class ContactMergedV1(_Payload):
    """Two records were one customer. Every service re-points what it holds for `merged_id` to
    `survivor_id` (feedback, scores, tasks) and treats `merged_id` as an alias from now on."""

    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    survivor: _CustomerCard = Field(description="The survivor's card after the merge.")
    merged_at: datetime


class ContactErasedV1(_Payload):
    """The customer asked to be forgotten: every service removes the personal data it holds for
    `customer_id` (names, identifiers, free text) and keeps only non-personal facts."""

    customer_id: uuid.UUID
    erased_at: datetime
    aliases: list[uuid.UUID] = Field(
        default_factory=list, description="Ids merged into this customer earlier: erase their data too."
    )


class OrderActivity(_Payload):
    kind: Literal["order"] = "order"
    amount: Decimal = Field(ge=0, examples=["1250.00"])
    currency: str = Field(min_length=3, max_length=3, examples=["EUR"])
    products: list[str] = Field(default_factory=list, examples=[["pump-x200"]])


class ContractActivity(_Payload):
    kind: Literal["contract"] = "contract"
    starts_on: date
    ends_on: date | None = None
    renewal_of: uuid.UUID | None = Field(default=None, description="The contract activity this one renews.")
    annual_value: Decimal | None = Field(default=None, ge=0)
    currency: str | None = Field(default=None, min_length=3, max_length=3)


class VisitFinding(_Payload):
    """What the customer said about one topic in a (senior-management) visit."""

    rating: int = Field(ge=1, le=5, description="1 (very poor) to 5 (very good).")
    comment: str | None = None


class VisitActivity(_Payload):
    kind: Literal["visit"] = "visit"
    purpose: str | None = None
    visited_by: str | None = None
    findings: dict[Literal["quality", "service", "sales_policy", "staff"], VisitFinding] | None = Field(
        default=None,
        description="A key-account visit's structured findings (docs/domain.md#the-key-account-programme); "
        "they feed the satisfaction score.",
    )


class CallActivity(_Payload):
    kind: Literal["call"] = "call"
    direction: Literal["inbound", "outbound"] = "outbound"
    duration_seconds: int | None = Field(default=None, ge=0)
    handled_by: str | None = None


ActivityDetails = Annotated[
    OrderActivity | ContractActivity | VisitActivity | CallActivity, Field(discriminator="kind")
]


class ActivityRecordedV1(_Payload):
    """A piece of commercial history (order, contract, visit, call) that loyalty and value scores use."""

    activity_id: uuid.UUID
    customer_id: uuid.UUID
    occurred_at: datetime
    details: ActivityDetails
    recorded_at: datetime


class TierChangedV1(_Payload):
    """The customer's tier moved, by the tier rules or by a person overriding them (with a reason)."""

    customer_id: uuid.UUID
    previous: Tier | None
    current: Tier
    source: Literal["rules", "manual"]
    reason: str = Field(examples=["continuous contracts for 14 months"])
    changed_at: datetime


class LifecycleChangedV1(_Payload):
    customer_id: uuid.UUID
    previous: LifecycleStage | None
    current: LifecycleStage
    changed_at: datetime
    # The card as it was at the change (event-carried state): playbooks leave the small and the
    # bad alone (docs/domain.md#credit-management). Absent in events published before they existed.
    tier: Tier | None = None
    credit: CreditStanding | None = None
    source: Literal["rules", "manual"] | None = Field(
        default=None, description="`rules`: the lifecycle rules moved it; `manual`: a person did."
    )
    reason: str | None = Field(default=None, examples=["no order for 400 days (rule: 365)"])


class CreditChangedV1(_Payload):
    customer_id: uuid.UUID
    previous: CreditStanding | None
    current: CreditStanding
    reason: str | None = None
    changed_at: datetime


class CustomerRef(_Payload):
    """The customer as the producer saw it when the event happened (event-carried state)."""

    tier: Tier
    owner: str | None = None


class SurveyAnswer(_Payload):
    metric: SurveyMetric
    score: int = Field(description="CSAT 1-5, NPS 0-10, CES 1-7.")


class FeedbackReceivedV1(_Payload):
    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    type: FeedbackType
    category: str | None = Field(default=None, examples=["service.delivery"])
    severity: Severity
    channel: Channel
    received_at: datetime
    customer: CustomerRef
    survey: SurveyAnswer | None = Field(default=None, description="Set for a survey response.")
    related_feedback_id: uuid.UUID | None = Field(
        default=None, description="The complaint a satisfaction follow-up answer is about."
    )


class Compensation(_Payload):
    """What the customer is given to make up for a failure, and where it stands."""

    amount: Decimal = Field(ge=0, examples=["150.00"])
    currency: str = Field(min_length=3, max_length=3, examples=["EUR"])
    approved: bool = False
    paid_on: date | None = None


class CaseResolution(_Payload):
    """How a complaint was put right: the cause (a code of the cause taxonomy), the remedy, any
    compensation (docs/domain.md#cause-remedy-compensation)."""

    cause_code: str = Field(examples=["delivery.carrier_delay"])
    remedy: str = Field(examples=["Replacement shipped by express courier."])
    compensation: Compensation | None = None


class FeedbackStatusChangedV1(_Payload):
    """A case (complaint, inquiry, technical support, suggestion) moved, or was reopened;
    `changed_by` is a person or `system`. Events from before other kinds were cases carry no
    `type`: they are complaints."""

    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    type: FeedbackType = FeedbackType.complaint
    previous: CaseStatus | None
    current: CaseStatus
    reopened: bool = False
    reason: str | None = None
    changed_by: str
    changed_at: datetime
    severity: Severity
    category: str | None = None
    customer: CustomerRef
    resolution: CaseResolution | None = Field(
        default=None, description="Set when a complaint moves to `resolved`: cause, remedy, compensation."
    )


class SlaBreachedV1(_Payload):
    """A case's first-response or resolution deadline passed before it was met."""

    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    type: FeedbackType = FeedbackType.complaint
    clock: Literal["first_response", "resolution"]
    due_at: datetime
    breached_at: datetime
    severity: Severity
    customer: CustomerRef


class CompensationPaidV1(_Payload):
    """A complaint's approved compensation reached the customer: the end of a recovery, and what
    the time-to-compensation indicator measures (from `received_at` to `paid_on`)."""

    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    received_at: datetime = Field(description="When the complaint arrived.")
    paid_on: date
    amount: Decimal = Field(ge=0, examples=["150.00"])
    currency: str = Field(min_length=3, max_length=3, examples=["EUR"])
    cause_code: str = Field(examples=["delivery.late"])
    customer: CustomerRef


class SuggestionVotedV1(_Payload):
    """A customer's suggestion joined a product backlog item (a new item, or a vote on one that
    other customers asked for too; docs/domain.md#the-suggestion-backlog)."""

    backlog_item_id: uuid.UUID
    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    theme_key: str = Field(examples=["pump-x200|product.features"])
    product: str | None = None
    category: str | None = None
    votes: int = Field(ge=0, description="Distinct customers who asked for it, this one included.")
    new_item: bool = Field(description="True when this suggestion opened the backlog item.")
    voted_at: datetime


class BacklogItemChangedV1(_Payload):
    """Staff moved a product backlog item on (priority, status, title). Not about one customer: the
    envelope subject and key are `backlog:<backlog_item_id>`; the voters are on the item
    (`GET /v1/backlog/{id}`)."""

    backlog_item_id: uuid.UUID
    theme_key: str = Field(examples=["pump-x200|product.features"])
    product: str | None = None
    category: str | None = None
    title: str
    priority: Literal["low", "medium", "high", "critical"]
    previous_priority: Literal["low", "medium", "high", "critical"]
    status: Literal["open", "planned", "done", "declined"]
    previous_status: Literal["open", "planned", "done", "declined"]
    votes: int = Field(ge=0)
    changed_by: str
    changed_at: datetime


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


class ScoreSet(_Payload):
    """A customer's five scores (docs/scoring.md). `churn_risk` is the only one where higher is worse."""

    satisfaction: float = Field(ge=0, le=100)
    loyalty: float = Field(ge=0, le=100)
    value: float = Field(ge=0, le=100)
    churn_risk: float = Field(ge=0, le=100)
    health: float = Field(ge=0, le=100)
    band: Band


class ScoreChangedV2(_Payload):
    """Any of a customer's scores moved (never published when nothing moved): old and new values,
    the band transition and the event that caused it (or the rescore run after a model change)."""

    customer_id: uuid.UUID
    model_version: str
    previous: ScoreSet | None
    current: ScoreSet
    changed: list[str] = Field(description="Names of the scores that moved.", examples=[["satisfaction", "health"]])
    band_from: Band | None
    band_to: Band
    cause_event_id: uuid.UUID
    cause_event_type: str
    rescore_run_id: uuid.UUID | None = Field(default=None, description="Set when a model change rescored the customer.")
    computed_at: datetime
    credit: CreditStanding | None = Field(
        default=None, description="The customer's credit standing as scoring knew it (playbooks leave the bad alone)."
    )


class IndicatorThresholdCrossedV1(_Payload):
    """An indicator of the indicator system crossed its threshold (published once per crossing,
    not on every event while it stays crossed) or came back inside it (`state = recovered`).
    Not about one customer: the envelope subject and key are `indicator:<indicator>:<dimension>:<segment>`."""

    alert_id: uuid.UUID
    indicator: str = Field(examples=["complaint_rate_per_100"])
    dimension: Literal["all", "tier", "region", "industry", "owner"] = "all"
    segment: str | None = Field(default=None, description="The tier, region, ... value; None for `all`.")
    period_start: datetime
    period_end: datetime
    value: float
    threshold: float
    direction: Literal["above", "below"] = Field(description="The alert fires when the value goes above / below.")
    state: Literal["crossed", "recovered"]
    crossed_at: datetime


class TaskCreatedV1(_Payload):
    task_id: uuid.UUID
    customer_id: uuid.UUID
    type: str = Field(examples=["service_recovery"])
    playbook: str
    priority: str
    due_at: datetime
    assignee: str
    cause_event_id: uuid.UUID


class TaskStatusChangedV1(_Payload):
    """A task was claimed, completed (with an outcome) or cancelled."""

    task_id: uuid.UUID
    customer_id: uuid.UUID
    type: str
    playbook: str
    previous: str
    current: Literal["open", "claimed", "done", "cancelled"]
    outcome: str | None = Field(default=None, examples=["customer satisfied with the replacement"])
    changed_by: str
    changed_at: datetime


class TaskEscalatedV1(_Payload):
    """A task passed its due time undone and moved up a level (owner -> team lead -> manager)."""

    task_id: uuid.UUID
    customer_id: uuid.UUID
    type: str
    playbook: str
    level: int = Field(ge=1, description="1 = team lead, 2 = manager, ...")
    escalated_to: str
    previous_assignee: str
    due_at: datetime
    escalated_at: datetime


class TaskCreatedV2(TaskCreatedV1):
    """A task that may be about no customer: a management task for an indicator alert or a
    recurring complaint theme (docs/domain.md#alerts-that-reach-people). `subject` names what it
    is about (the envelope subject of the trigger: `indicator:<name>:<dimension>:<segment>` or
    `theme:<category>:<product>`). Tasks about a customer are still announced as v1."""

    customer_id: uuid.UUID | None = None  # type: ignore[assignment]  # v1 requires one; v2 tasks may have none
    subject: str = Field(examples=["indicator:complaint_rate_per_100:tier:key"])


class TaskStatusChangedV2(TaskStatusChangedV1):
    """The status change of a v2 task (no customer); an alert that recovered closes its task with
    `changed_by = system` and the recovery in `outcome`."""

    customer_id: uuid.UUID | None = None  # type: ignore[assignment]  # v1 requires one; v2 tasks may have none
    subject: str


class TaskEscalatedV2(TaskEscalatedV1):
    """The escalation of a v2 task (no customer)."""

    customer_id: uuid.UUID | None = None  # type: ignore[assignment]  # v1 requires one; v2 tasks may have none
    subject: str


class InvitationAnsweredV1(_Payload):
    """A survey answer that names the campaign invitation it answers (docs/domain.md#survey-campaigns):
    the feedback is recorded as any survey response (and announced as `crm.feedback.received.v1`);
    this event lets the campaign count the response and its result per indicator group."""

    feedback_id: uuid.UUID
    customer_id: uuid.UUID
    invitation_id: uuid.UUID
    question: str | None = Field(default=None, description="The questionnaire's question key.", examples=["q1"])
    category: str | None = Field(default=None, examples=["service.delivery"])
    survey: SurveyAnswer
    answered_at: datetime


class ThemeEscalatedV1(_Payload):
    """A complaint theme (category and product) recurs across customers and is not shrinking: it must
    reach management (docs/domain.md#recurring-themes-go-to-management). Published once per theme and
    period; the envelope subject and key are `theme:<category>:<product>`."""

    category: str | None
    product: str | None
    customers: int = Field(description="Distinct customers who complained about it in the period.")
    complaints: int
    previous_customers: int = Field(description="Distinct customers in the period before.")
    period_start: datetime
    period_end: datetime
    escalated_at: datetime


EVENT_PAYLOADS: dict[str, type[BaseModel]] = {
    "crm.contact.created.v1": ContactCreatedV1,
    "crm.contact.updated.v1": ContactUpdatedV1,
    "crm.contact.merged.v1": ContactMergedV1,
    "crm.contact.erased.v1": ContactErasedV1,
    "crm.contact.activity_recorded.v1": ActivityRecordedV1,
    "crm.contact.tier_changed.v1": TierChangedV1,
    "crm.contact.lifecycle_changed.v1": LifecycleChangedV1,
    "crm.contact.credit_changed.v1": CreditChangedV1,
    "crm.feedback.received.v1": FeedbackReceivedV1,
    "crm.feedback.status_changed.v1": FeedbackStatusChangedV1,
    "crm.feedback.sla_breached.v1": SlaBreachedV1,
    "crm.feedback.suggestion_voted.v1": SuggestionVotedV1,
    "crm.feedback.compensation_paid.v1": CompensationPaidV1,
    "crm.feedback.invitation_answered.v1": InvitationAnsweredV1,
    "crm.feedback.theme_escalated.v1": ThemeEscalatedV1,
    "crm.feedback.backlog_item_changed.v1": BacklogItemChangedV1,
    "crm.score.changed.v1": ScoreChangedV1,
    "crm.score.changed.v2": ScoreChangedV2,
    "crm.indicator.threshold_crossed.v1": IndicatorThresholdCrossedV1,
    "crm.task.created.v1": TaskCreatedV1,
    "crm.task.status_changed.v1": TaskStatusChangedV1,
    "crm.task.escalated.v1": TaskEscalatedV1,
    "crm.task.created.v2": TaskCreatedV2,
    "crm.task.status_changed.v2": TaskStatusChangedV2,
    "crm.task.escalated.v2": TaskEscalatedV2,
}
