"""Feedback use cases. Never commits: the request boundary does."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import ContactErasedV1, ContactMergedV1
from crm_shared.contracts.vocabulary import FeedbackType, Severity
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound
from crm_shared.projections import erase_customer, merge_customer
from feedback.events.publishers import publish_feedback_received
from feedback.intake.customers import CustomerResolver
from feedback.intake.models import Feedback
from feedback.intake.repository import FeedbackRepository
from feedback.intake.schemas import FeedbackCreate, FeedbackPage, FeedbackRead


async def record_feedback(session: AsyncSession, data: FeedbackCreate, resolver: CustomerResolver) -> Feedback:
    if data.customer_id is not None:
        customer = await resolver.by_id(data.customer_id)
    else:
        assert data.customer is not None
        customer = await resolver.by_identity(data.customer)
    feedback = await FeedbackRepository(session).add(
        Feedback(
            id=new_id(),
            received_at=utcnow(),
            customer_id=customer.customer_id,
            type=data.type.value,
            category=data.category,
            severity=(data.severity or Severity.low).value,
            channel=data.channel.value,
            description=data.description,
            external_ref=data.external_ref,
            status="received" if data.type is FeedbackType.complaint else "recorded",
            customer_tier=customer.tier,
        )
    )
    await publish_feedback_received(session, feedback, owner=customer.owner)
    return feedback


async def get_feedback(session: AsyncSession, feedback_id: uuid.UUID) -> Feedback:
    feedback = await FeedbackRepository(session).get(feedback_id)
    if feedback is None:
        raise NotFound("Feedback", feedback_id)
    return feedback


async def list_feedback(
    session: AsyncSession, *, customer_id: uuid.UUID | None, type: str | None, limit: int, cursor: str | None
) -> FeedbackPage:
    before = decode_time_cursor(cursor)
    rows = await FeedbackRepository(session).list(customer_id=customer_id, type=type, limit=limit + 1, before=before)
    last = rows[limit - 1] if len(rows) > limit else None
    return FeedbackPage(
        items=[FeedbackRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.received_at, last.id) if last else None,
    )


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The merged customer's feedback becomes the survivor's; later posts with the old id land
    there too, because the resolver follows the alias."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    survivor_id = await merge_customer(session, merge, event.time)
    await FeedbackRepository(session).move_customer(merge.merged_id, survivor_id)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    erased = await erase_customer(session, erasure, event.time)
    await FeedbackRepository(session).erase_free_text(erased.ids)
