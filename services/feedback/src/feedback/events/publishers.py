"""Events the feedback service produces."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics, new_event
from crm_shared.contracts.events import (
    BacklogItemChangedV1,
    CaseResolution,
    CompensationPaidV1,
    CustomerRef,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    InvitationAnsweredV1,
    SlaBreachedV1,
    SuggestionVotedV1,
    SurveyAnswer,
    ThemeEscalatedV1,
)
from crm_shared.contracts.vocabulary import CaseStatus, Channel, FeedbackType, Severity, Tier
from crm_shared.messaging.outbox import add_event
from feedback.records.models import Feedback

SOURCE = "crm/feedback"


async def publish_feedback_received(session: AsyncSession, feedback: Feedback, owner: str | None) -> None:
    """Only for matched feedback: unmatched feedback is announced once its customer appears."""
    assert feedback.customer_id is not None
    data = FeedbackReceivedV1(
        feedback_id=feedback.id,
        customer_id=feedback.customer_id,
        type=FeedbackType(feedback.type),
        category=feedback.category,
        severity=Severity(feedback.severity),
        channel=Channel(feedback.channel),
        received_at=feedback.received_at,
        customer=CustomerRef(tier=Tier(feedback.customer_tier), owner=owner),
        survey=SurveyAnswer.model_validate(feedback.survey) if feedback.survey else None,
        related_feedback_id=feedback.related_feedback_id,
    )
    event = new_event(type="crm.feedback.received.v1", source=SOURCE, subject=feedback.customer_id, data=data)
    await add_event(session, event, Topics.feedback)
    if feedback.invitation_id is not None and data.survey is not None:
        answered = InvitationAnsweredV1(
            feedback_id=feedback.id,
            customer_id=feedback.customer_id,
            invitation_id=feedback.invitation_id,
            question=feedback.question,
            category=feedback.category,
            survey=data.survey,
            answered_at=feedback.received_at,
        )
        answer = new_event(
            type="crm.feedback.invitation_answered.v1", source=SOURCE, subject=feedback.customer_id, data=answered
        )
        await add_event(session, answer, Topics.feedback)


async def publish_status_changed(
    session: AsyncSession,
    feedback: Feedback,
    *,
    previous: CaseStatus | None,
    reopened: bool,
    reason: str | None,
    changed_by: str,
    changed_at: datetime,
    owner: str | None,
    resolution: CaseResolution | None = None,
) -> None:
    """Carries type, severity, category, tier and owner so notifications plans the follow-up with
    no lookup; a resolved complaint carries its cause, remedy and compensation."""
    assert feedback.customer_id is not None  # only matched feedback is a case
    data = FeedbackStatusChangedV1(
        feedback_id=feedback.id,
        customer_id=feedback.customer_id,
        type=FeedbackType(feedback.type),
        previous=previous,
        current=CaseStatus(feedback.status),
        reopened=reopened,
        reason=reason,
        changed_by=changed_by,
        changed_at=changed_at,
        severity=Severity(feedback.severity),
        category=feedback.category,
        customer=CustomerRef(tier=Tier(feedback.customer_tier), owner=owner),
        resolution=resolution,
    )
    event = new_event(type="crm.feedback.status_changed.v1", source=SOURCE, subject=feedback.customer_id, data=data)
    await add_event(session, event, Topics.feedback)


async def publish_sla_breached(
    session: AsyncSession,
    feedback: Feedback,
    *,
    clock: Literal["first_response", "resolution"],
    due_at: datetime,
    breached_at: datetime,
    severity: str,
    tier: str,
    owner: str | None,
) -> None:
    """Tier and severity of the clock (the complaint's, when it arrived); the owner of today, who escalates.

    Takes the clock's values rather than the clock row, so publishers sit below the SLA package.
    """
    assert feedback.customer_id is not None
    data = SlaBreachedV1(
        feedback_id=feedback.id,
        customer_id=feedback.customer_id,
        type=FeedbackType(feedback.type),
        clock=clock,
        due_at=due_at,
        breached_at=breached_at,
        severity=Severity(severity),
        customer=CustomerRef(tier=Tier(tier), owner=owner),
    )
    event = new_event(type="crm.feedback.sla_breached.v1", source=SOURCE, subject=feedback.customer_id, data=data)
    await add_event(session, event, Topics.feedback)


async def publish_suggestion_voted(session: AsyncSession, data: SuggestionVotedV1) -> None:
    """Keyed by the voting customer, like every feedback event (the backlog item is in the data)."""
    event = new_event(type="crm.feedback.suggestion_voted.v1", source=SOURCE, subject=data.customer_id, data=data)
    await add_event(session, event, Topics.feedback)


async def publish_compensation_paid(session: AsyncSession, feedback: Feedback, data: CompensationPaidV1) -> None:
    assert feedback.customer_id is not None  # only matched complaints are resolved
    event = new_event(type="crm.feedback.compensation_paid.v1", source=SOURCE, subject=feedback.customer_id, data=data)
    await add_event(session, event, Topics.feedback)


async def publish_theme_escalated(
    session: AsyncSession,
    *,
    category: str,
    product: str | None,
    customers: int,
    complaints: int,
    previous_customers: int,
    period: tuple[datetime, datetime],
) -> None:
    """Not about one customer: subject and key are the theme, so its escalations stay in order."""
    data = ThemeEscalatedV1(
        category=category,
        product=product,
        customers=customers,
        complaints=complaints,
        previous_customers=previous_customers,
        period_start=period[0],
        period_end=period[1],
        escalated_at=period[1],
    )
    subject = f"theme:{category}:{product or '-'}"
    event = new_event(type="crm.feedback.theme_escalated.v1", source=SOURCE, subject=subject, data=data)
    await add_event(session, event, Topics.feedback)


async def publish_backlog_item_changed(session: AsyncSession, data: BacklogItemChangedV1) -> None:
    """Keyed by the item (`backlog:<id>`): its changes stay in order; no customer is the subject."""
    subject = f"backlog:{data.backlog_item_id}"
    event = new_event(type="crm.feedback.backlog_item_changed.v1", source=SOURCE, subject=subject, data=data)
    await add_event(session, event, Topics.feedback)
