"""Score use cases: fold an event into a customer's inputs, store, explain, announce."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import ContactCreatedV1, ContactErasedV1, ContactMergedV1, FeedbackReceivedV1
from crm_shared.contracts.vocabulary import Band
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound
from crm_shared.projections import erase_customer, merge_customer, survivor_id
from scoring.events.publishers import publish_score_changed
from scoring.scores import model
from scoring.scores.models import CustomerScore
from scoring.scores.repository import ScoreRepository
from scoring.scores.schemas import ScoreHistoryPage, ScoreHistoryRead


def _inputs(row: Row[Any] | None) -> model.Inputs:
    if row is None:
        return model.Inputs()
    return model.Inputs(
        complaint_weight=row.complaint_weight,
        praise_weight=row.praise_weight,
        complaints=row.complaints,
        praises=row.praises,
        as_of=row.inputs_as_of,
    )


async def _apply(
    session: AsyncSession, customer_id: uuid.UUID, inputs: model.Inputs, row: Row[Any] | None, cause: Envelope
) -> None:
    """Store the new inputs; record history and publish only when a score moved."""
    repository = ScoreRepository(session)
    score = model.compute(inputs)
    previous = (row.satisfaction, row.health, Band(row.band)) if row else None
    moved = previous != (score.satisfaction, score.health, score.band)
    now = utcnow()
    await repository.save(
        {
            "customer_id": customer_id,
            "satisfaction": score.satisfaction,
            "health": score.health,
            "band": score.band.value,
            "complaint_weight": inputs.complaint_weight,
            "praise_weight": inputs.praise_weight,
            "complaints": inputs.complaints,
            "praises": inputs.praises,
            "inputs_as_of": inputs.as_of,
            "model_version": model.MODEL_VERSION,
            "explanation": score.explanation,
            "last_event_id": cause.id,
            "updated_at": now if moved or row is None else row.updated_at,
        }
    )
    if not moved:
        return
    await repository.add_history(
        {
            "id": new_id(),
            "customer_id": customer_id,
            "satisfaction": score.satisfaction,
            "health": score.health,
            "band": score.band.value,
            "previous_satisfaction": previous[0] if previous else None,
            "previous_health": previous[1] if previous else None,
            "previous_band": previous[2].value if previous else None,
            "cause_event_id": cause.id,
            "cause_event_type": cause.type,
            "model_version": model.MODEL_VERSION,
            "explanation": score.explanation,
            "computed_at": now,
        }
    )
    await publish_score_changed(session, customer_id, previous, score, cause, now)


async def on_contact_created(session: AsyncSession, event: Envelope) -> None:
    """A new customer starts at the baseline, so its score is readable from day one."""
    card = event.payload()
    assert isinstance(card, ContactCreatedV1)
    if await survivor_id(session, card.customer_id) != card.customer_id:
        return  # a replayed event of a record merged away since: its score lives on the survivor
    row = await ScoreRepository(session).lock(card.customer_id)
    if row is None:
        await _apply(session, card.customer_id, model.Inputs(), None, event)


async def on_feedback_received(session: AsyncSession, event: Envelope) -> None:
    """Feedback for a merged id (posted before the merge, or by a system with the old id) counts
    for the survivor: the feedback topic is not ordered with the contacts topic."""
    feedback = event.payload()
    assert isinstance(feedback, FeedbackReceivedV1)
    customer_id, row = await ScoreRepository(session).lock_current(feedback.customer_id)
    inputs = model.add_feedback(_inputs(row), feedback.type, feedback.severity, feedback.received_at)
    await _apply(session, customer_id, inputs, row, event)


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The survivor's score is recomputed from both records' inputs, with history and a
    `crm.score.changed.v1` (cause: the merge) if it moved, like after any other event."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    survivor = await merge_customer(session, merge, event.time)
    repository = ScoreRepository(session)
    survivor_row, merged_row = await repository.lock_pair(survivor, merge.merged_id)
    await repository.move_customer(merge.merged_id, survivor)
    if merged_row is not None:
        inputs = model.combine(_inputs(survivor_row), _inputs(merged_row))
        await _apply(session, survivor, inputs, survivor_row, event)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    """Scores are numbers under an id that no longer names anyone, and their explanations hold
    only model figures, so they stay; the card and the platform records go."""
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    await erase_customer(session, erasure, event.time)


async def get_score(session: AsyncSession, customer_id: uuid.UUID) -> CustomerScore:
    row = await ScoreRepository(session).get(customer_id)
    if row is None:
        raise NotFound("Score of customer", customer_id)
    return row


async def score_history(
    session: AsyncSession, customer_id: uuid.UUID, *, limit: int, cursor: str | None
) -> ScoreHistoryPage:
    rows = await ScoreRepository(session).history(customer_id, limit=limit + 1, before=decode_time_cursor(cursor))
    last = rows[limit - 1] if len(rows) > limit else None
    return ScoreHistoryPage(
        items=[ScoreHistoryRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.computed_at, last.id) if last else None,
    )
