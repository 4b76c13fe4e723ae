"""Events the feedback service produces."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics, new_event
from crm_shared.contracts.events import CustomerRef, FeedbackReceivedV1
from crm_shared.contracts.vocabulary import Channel, FeedbackType, Severity, Tier
from crm_shared.messaging.outbox import add_event
from feedback.intake.models import Feedback

SOURCE = "crm/feedback"


async def publish_feedback_received(session: AsyncSession, feedback: Feedback, owner: str | None) -> None:
    data = FeedbackReceivedV1(
        feedback_id=feedback.id,
        customer_id=feedback.customer_id,
        type=FeedbackType(feedback.type),
        category=feedback.category,
        severity=Severity(feedback.severity),
        channel=Channel(feedback.channel),
        received_at=feedback.received_at,
        customer=CustomerRef(tier=Tier(feedback.customer_tier), owner=owner),
    )
    event = new_event(type="crm.feedback.received.v1", source=SOURCE, subject=feedback.customer_id, data=data)
    await add_event(session, event, Topics.feedback)
