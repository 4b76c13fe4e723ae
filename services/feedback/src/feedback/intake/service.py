"""Feedback use cases. Never commits: the request boundary does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import ContactCreatedV1, ContactErasedV1, ContactMergedV1, ContactUpdatedV1
from crm_shared.contracts.vocabulary import Severity
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import PROBLEM_TYPE_BASE, NotFound, ProblemError, ValidationFailed
from crm_shared.projections import (
    TOMBSTONE_TIER,
    erase_customer,
    get_customer,
    merge_customer,
)
from crm_shared.projections import on_contact_created as project_contact_created
from crm_shared.projections import on_contact_updated as project_contact_updated
from feedback.cases import transitions
from feedback.cases.repository import CaseRepository
from feedback.events.publishers import publish_feedback_received
from feedback.intake.customers import CallerKeys, CustomerResolver
from feedback.intake.schemas import BatchItemResult, FeedbackCreate, FeedbackPage, FeedbackRead
from feedback.records.models import Feedback
from feedback.records.repository import FeedbackRepository
from feedback.resolutions.repository import ResolutionRepository
from feedback.sla import service as sla
from feedback.sla.repository import SlaClockRepository

# Unmatched feedback's tier until its customer appears: the lowest, which promises nothing.
UNMATCHED_TIER = TOMBSTONE_TIER


@dataclass(frozen=True)
class Recorded:
    feedback: Feedback
    # False: the same (source_system, external_ref) was stored before; nothing new was recorded.
    created: bool


async def record_feedback(session: AsyncSession, data: FeedbackCreate, resolver: CustomerResolver) -> Recorded:
    """Stores the feedback once per source reference, for a known customer, a new lead, or (caller
    unknown and nameless) unmatched: unmatched feedback is announced only when it gets its
    customer (`on_contact_created`), so scoring and notifications see it once, complete."""
    repository = FeedbackRepository(session)
    # Checked before the customer lookup: a re-sent record must not create a lead again.
    if data.external_ref:
        if existing := await repository.by_source_ref(data.source_system, data.external_ref):
            return Recorded(existing, created=False)
    customer, keys = await _customer_of(data, resolver)
    if data.related_feedback_id is not None:
        await _check_related(repository, data.related_feedback_id, customer)
    feedback = Feedback(
        id=new_id(),
        received_at=utcnow(),
        customer_id=customer.customer_id if customer else None,
        type=data.type.value,
        category=data.category,
        severity=(data.severity or Severity.low).value,
        channel=data.channel.value,
        description=data.description,
        external_ref=data.external_ref,
        source_system=data.source_system,
        product=data.product,
        survey_metric=data.survey.metric.value if data.survey else None,
        survey_score=data.survey.score if data.survey else None,
        related_feedback_id=data.related_feedback_id,
        invitation_id=data.invitation_id,
        question=data.question,
        caller_email=keys.email if keys and customer is None else None,
        caller_phone=keys.phone if keys and customer is None else None,
        status=transitions.initial_status(data.type),
        customer_tier=customer.tier if customer else UNMATCHED_TIER,
    )
    if not await sla.record(session, feedback):
        assert data.external_ref  # the source reference is the only unique key a new row can hit
        winner = await repository.by_source_ref(data.source_system, data.external_ref)
        assert winner is not None
        return Recorded(winner, created=False)
    if customer is not None:
        await publish_feedback_received(session, feedback, owner=customer.owner)
    return Recorded(feedback, created=True)


async def _customer_of(data: FeedbackCreate, resolver: CustomerResolver) -> tuple[Row[Any] | None, CallerKeys | None]:
    """An unknown caller is never turned away: with a name they become a lead, without one the
    feedback waits unmatched (None) for the customer to appear."""
    if data.customer_id is not None:
        return await resolver.by_id(data.customer_id), None
    assert data.customer is not None
    keys = resolver.keys(data.customer)
    customer = await resolver.by_identity(keys)
    if customer is None and data.customer.name:
        customer = await resolver.create_lead(data.customer.name, keys)
    return customer, keys


async def _check_related(repository: FeedbackRepository, related_id: uuid.UUID, customer: Row[Any] | None) -> None:
    """A follow-up answer may reopen the complaint it names: it must be that customer's own."""
    related = await repository.get(related_id)
    if related is None:
        raise ValidationFailed("related_feedback_id", f"No feedback with id {related_id}.", "unknown_feedback")
    if customer is None or related.customer_id != customer.customer_id:
        raise ValidationFailed(
            "related_feedback_id", f"Feedback {related_id} belongs to another customer.", "other_customer"
        )


class ValidationFailedMany(ProblemError):
    """A batch item's schema errors, shaped as the single endpoint answers them (all fields at once)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        super().__init__(422, "Validation failed", detail, type="validation-error", errors=errors)


async def record_batch(session: AsyncSession, items: list[Any], resolver: CustomerResolver) -> list[BatchItemResult]:
    """Each item in its own savepoint: a bad item rolls back only itself (and its event), never the
    good ones before it. A retried batch stores nothing twice thanks to the source references."""
    results: list[BatchItemResult] = []
    for index, item in enumerate(items):
        try:
            data = FeedbackCreate.model_validate(item)
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"], "code": e["type"]}
                for e in exc.errors(include_url=False, include_context=False, include_input=False)
            ]
            results.append(_item_problem(index, ValidationFailedMany(errors)))
            continue
        try:
            async with session.begin_nested():
                recorded = await record_feedback(session, data, resolver)
                feedback = FeedbackRead.model_validate(recorded.feedback)
        except ProblemError as exc:
            results.append(_item_problem(index, exc))
            continue
        results.append(BatchItemResult(index=index, status=201 if recorded.created else 200, feedback=feedback))
    return results


def _item_problem(index: int, exc: ProblemError) -> BatchItemResult:
    problem = {
        "type": exc.type if exc.type.startswith(("http", "about:")) else PROBLEM_TYPE_BASE + exc.type,
        "title": exc.title,
        "status": exc.status,
        **({"detail": exc.detail} if exc.detail else {}),
        **{k: v for k, v in exc.extensions.items() if k not in ("type", "title", "status", "detail")},
    }
    return BatchItemResult(index=index, status=exc.status, errors=exc.errors or [], problem=problem)


async def live_feedback(session: AsyncSession, keys: Mapping[str, Any]) -> FeedbackRead:
    """A changed piece of feedback or case (the live feed's keys) as `GET /v1/feedback/{id}` returns it."""
    return FeedbackRead.model_validate(await get_feedback(session, uuid.UUID(str(keys["id"]))))


async def get_feedback(session: AsyncSession, feedback_id: uuid.UUID) -> Feedback:
    feedback = await FeedbackRepository(session).get(feedback_id)
    if feedback is None:
        raise NotFound("Feedback", feedback_id)
    return feedback


async def list_feedback(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID | None,
    type: str | None,
    limit: int,
    cursor: str | None,
    unmatched: bool | None = None,
    external_ref: str | None = None,
) -> FeedbackPage:
    before = decode_time_cursor(cursor)
    rows = await FeedbackRepository(session).list(
        customer_id=customer_id,
        type=type,
        limit=limit + 1,
        before=before,
        unmatched=unmatched,
        external_ref=external_ref,
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return FeedbackPage(
        items=[FeedbackRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.received_at, last.id) if last else None,
    )


async def on_contact_created(session: AsyncSession, event: Envelope) -> None:
    """The projection learns the card; unmatched feedback left by its email or phone joins it."""
    await project_contact_created(session, event)
    card = event.payload()
    assert isinstance(card, ContactCreatedV1)
    await _attach_unmatched(session, card.customer_id)


async def on_contact_updated(session: AsyncSession, event: Envelope) -> None:
    """A customer may gain the email or phone an unknown caller used after being created."""
    await project_contact_updated(session, event)
    card = event.payload()
    assert isinstance(card, ContactUpdatedV1)
    await _attach_unmatched(session, card.customer_id)


async def _attach_unmatched(session: AsyncSession, customer_id: uuid.UUID) -> None:
    """Announced only now, with the customer's tier and owner, so scoring and notifications react
    once and to a complete event."""
    customer = await get_customer(session, customer_id)
    if customer is None or customer.erased_at is not None or not (customer.email or customer.phone):
        return
    attached = await FeedbackRepository(session).attach_unmatched(
        customer_id=customer.customer_id, tier=customer.tier, email=customer.email, phone=customer.phone
    )
    for feedback in attached:
        await publish_feedback_received(session, feedback, owner=customer.owner)


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The merged customer's feedback becomes the survivor's; later posts with the old id land
    there too, because the resolver follows the alias. Unmatched feedback has no customer id to
    re-point: any matching the merged record's identifiers was attached when that record appeared."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    survivor_id = await merge_customer(session, merge, event.time)
    await FeedbackRepository(session).move_customer(merge.merged_id, survivor_id)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    erased = await erase_customer(session, erasure, event.time)
    await FeedbackRepository(session).erase_free_text(erased.ids)
    # Unmatched feedback left under the customer's email or phone (never attached, e.g. the caller
    # used them after the record changed) is theirs too.
    await FeedbackRepository(session).erase_unmatched(erased.identifiers)
    # Staff notes and transition reasons about the customer's cases go too.
    await CaseRepository(session).erase_free_text(erased.ids)
    await SlaClockRepository(session).erase_pause_reasons(erased.ids)
    await ResolutionRepository(session).erase_free_text(erased.ids)
