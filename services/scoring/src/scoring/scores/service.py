"""Score use cases: fold an event into a customer's inputs, store, announce (reads.py answers the GETs).

Per event: one locked row read (which also reads the current scorecard version; for a customer
not scored yet, one more read that follows a merge), one upsert, which also inserts the history
row when a rounded score moved, and then one outbox row. The scorecard's
parameters are cached per process by version, so they cost a query only when a new version
appears.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope, Topics
from crm_shared.contracts.events import (
    ActivityRecordedV1,
    ContactCreatedV1,
    ContactErasedV1,
    ContactMergedV1,
    ContactUpdatedV1,
    ContractActivity,
    CreditChangedV1,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    LifecycleChangedV1,
    OrderActivity,
    SlaBreachedV1,
    VisitActivity,
)
from crm_shared.contracts.vocabulary import CaseStatus, FeedbackType
from crm_shared.db import new_id, utcnow
from crm_shared.http.problems import NotFound
from crm_shared.messaging.outbox import add_event
from crm_shared.projections import erase_customer, merge_customer, survivor_id
from scoring import calculation
from scoring.events.publishers import score_changed
from scoring.scores.repository import ScorecardRepository, ScoreRepository

Fold = Callable[[calculation.Inputs, calculation.Scorecard], calculation.Inputs]
RECENT_CAUSES = 10
RESCORE_CAUSE_TYPE = "crm.scoring.rescore_run"
_CARDS: dict[int, calculation.Scorecard] = {}
_SCORES_AND_BAND = (*calculation.SCORES, "band")


async def scorecard(session: AsyncSession, version: int | None = None) -> calculation.Scorecard:
    """A scorecard version (the current one by default), cached: versions never change."""
    repository = ScorecardRepository(session)
    if version is None:
        version = await repository.current_version() or 1
    card = _CARDS.get(version)
    if card is None:
        row = await repository.scorecard(version)
        if row is None:
            raise NotFound("Scorecard version", version)
        card = _CARDS[version] = calculation.Scorecard.from_config(version, row.config)
    return card


def _inputs(row: Row[Any] | None) -> calculation.Inputs:
    return calculation.Inputs.from_json(row.inputs) if row is not None else calculation.Inputs()


def _previous(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "satisfaction": row.satisfaction,
        "loyalty": row.loyalty,
        "value": row.value,
        "churn_risk": row.churn_risk,
        "health": row.health,
        "band": row.band,
    }


def build_update(
    customer_id: uuid.UUID,
    inputs: calculation.Inputs,
    row: Row[Any] | None,
    card: calculation.Scorecard,
    *,
    cause_id: uuid.UUID,
    cause_type: str,
    last_event_id: uuid.UUID | None,
    rescore_run_id: uuid.UUID | None = None,
    now: datetime | None = None,
    stored_inputs: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None, Envelope | None]:
    """The row to upsert and, if a rounded score moved, the history row and the event.

    `stored_inputs`: the JSON `inputs` was read from, unchanged (a rescore), stored again as it is
    when it has the current shape instead of being converted back."""
    score = calculation.compute(inputs, card)
    previous = _previous(row)
    changed = calculation.changed_scores(previous, score)
    now = now or utcnow()
    causes = list(row.recent_causes) if row is not None else []
    if changed:
        causes = [{"id": str(cause_id), "type": cause_type, "at": now.isoformat()}, *causes][:RECENT_CAUSES]
    current = score.values()
    values = {
        "customer_id": customer_id,
        **current,
        "inputs": stored_inputs if calculation.current_shape(stored_inputs) else inputs.to_json(),
        "inputs_as_of": inputs.as_of,
        "scorecard_version": card.version,
        "model_version": card.model_version,
        "explanation": score.explanation,
        "recent_causes": causes,
        "last_event_id": last_event_id,
        "updated_at": now if changed or row is None else row.updated_at,
    }
    if not changed:
        return values, None, None
    history = {
        "id": new_id(),
        "customer_id": customer_id,
        **current,
        **{f"previous_{k}": (previous[k] if previous else None) for k in _SCORES_AND_BAND},
        "changed": changed,
        "cause_event_id": cause_id,
        "cause_event_type": cause_type,
        "rescore_run_id": rescore_run_id,
        "scorecard_version": card.version,
        "model_version": card.model_version,
        "explanation": score.explanation,
        "computed_at": now,
    }
    event = score_changed(
        customer_id,
        card.model_version,
        previous,
        score,
        changed,
        cause_event_id=cause_id,
        cause_event_type=cause_type,
        rescore_run_id=rescore_run_id,
        computed_at=now,
        credit=inputs.credit,
    )
    return values, history, event


async def _apply(
    session: AsyncSession,
    customer_id: uuid.UUID,
    inputs: calculation.Inputs,
    row: Row[Any] | None,
    card: calculation.Scorecard,
    cause: Envelope,
) -> None:
    """Store the new inputs; record history and publish only when a score moved."""
    repository = ScoreRepository(session)
    values, history, event = build_update(
        customer_id, inputs, row, card, cause_id=cause.id, cause_type=cause.type, last_event_id=cause.id
    )
    if history is None or event is None:
        await repository.save(values)
        return
    await repository.save_with_history(values, history)
    await add_event(session, event, Topics.scores)


async def _card_for(session: AsyncSession, row: Row[Any] | None) -> calculation.Scorecard:
    version = row.current_scorecard if row is not None else None
    return await scorecard(session, version)


async def _fold(session: AsyncSession, event: Envelope, customer_id: uuid.UUID, fold: Fold) -> None:
    """Lock the customer's row (following a merge), fold the event in, store and announce.

    Events for a merged id count for the survivor: the feedback topic is not ordered with the
    contacts topic.
    """
    current, row, version = await ScoreRepository(session).lock_current(customer_id)
    card = await scorecard(session, version)
    await _apply(session, current, fold(_inputs(row), card), row, card, event)


async def on_contact_created(session: AsyncSession, event: Envelope) -> None:
    """A new customer starts at the baseline, so its score is readable from day one; the card
    gives tenure (created_at), tier (potential), lifecycle and credit."""
    card = event.payload()
    assert isinstance(card, ContactCreatedV1)
    if await survivor_id(session, card.customer_id) != card.customer_id:
        return  # a replayed event of a record merged away since: its score lives on the survivor
    row = await ScoreRepository(session).lock(card.customer_id)
    scorecard_ = await _card_for(session, row)
    inputs = calculation.set_profile(
        _inputs(row),
        tier=card.tier.value,
        lifecycle=card.lifecycle_stage.value,
        credit=card.credit_standing.value,
        customer_since=card.created_at,
        at=card.created_at,
        card=scorecard_,
    )
    await _apply(session, card.customer_id, inputs, row, scorecard_, event)


PROFILE_FIELDS = {"tier", "lifecycle_stage", "credit_standing"}


async def on_contact_updated(session: AsyncSession, event: Envelope) -> None:
    """Only a new tier, lifecycle stage or credit standing moves a score."""
    card = event.payload()
    assert isinstance(card, ContactUpdatedV1)
    if not PROFILE_FIELDS & set(card.changed):
        return
    await _fold(
        session,
        event,
        card.customer_id,
        lambda i, c: calculation.set_profile(
            i,
            tier=card.tier.value,
            lifecycle=card.lifecycle_stage.value,
            credit=card.credit_standing.value,
            at=card.updated_at,
            card=c,
        ),
    )


async def on_credit_changed(session: AsyncSession, event: Envelope) -> None:
    change = event.payload()
    assert isinstance(change, CreditChangedV1)
    await _fold(
        session,
        event,
        change.customer_id,
        lambda i, c: calculation.set_profile(i, credit=change.current.value, at=change.changed_at, card=c),
    )


async def on_lifecycle_changed(session: AsyncSession, event: Envelope) -> None:
    change = event.payload()
    assert isinstance(change, LifecycleChangedV1)
    await _fold(
        session,
        event,
        change.customer_id,
        lambda i, c: calculation.set_profile(i, lifecycle=change.current.value, at=change.changed_at, card=c),
    )


async def on_activity_recorded(session: AsyncSession, event: Envelope) -> None:
    """Orders feed value and repeat purchases, contracts continuity and renewals, every activity recency."""
    activity = event.payload()
    assert isinstance(activity, ActivityRecordedV1)
    details, at = activity.details, activity.occurred_at
    if isinstance(details, OrderActivity):

        def fold(i: calculation.Inputs, c: calculation.Scorecard) -> calculation.Inputs:
            return calculation.add_order(i, float(details.amount), at, c)

    elif isinstance(details, ContractActivity):

        def fold(i: calculation.Inputs, c: calculation.Scorecard) -> calculation.Inputs:
            return calculation.add_contract(
                i, details.starts_on, details.ends_on, details.renewal_of is not None, at, c
            )

    elif isinstance(details, VisitActivity) and details.findings:
        ratings = [finding.rating for finding in details.findings.values()]

        def fold(i: calculation.Inputs, c: calculation.Scorecard) -> calculation.Inputs:
            return calculation.add_visit_findings(i, ratings, at, c)

    else:

        def fold(i: calculation.Inputs, c: calculation.Scorecard) -> calculation.Inputs:
            return calculation.add_contact(i, at, c)

    await _fold(session, event, activity.customer_id, fold)


async def on_feedback_received(session: AsyncSession, event: Envelope) -> None:
    feedback = event.payload()
    assert isinstance(feedback, FeedbackReceivedV1)
    survey = (feedback.survey.metric, feedback.survey.score) if feedback.survey else None
    await _fold(
        session,
        event,
        feedback.customer_id,
        lambda i, c: calculation.add_feedback(
            i,
            feedback.type,
            feedback.severity,
            feedback.received_at,
            c,
            feedback_id=str(feedback.feedback_id),
            survey=survey,
        ),
    )


async def on_feedback_status_changed(session: AsyncSession, event: Envelope) -> None:
    """Resolution speed and outcome: resolved (or closed) ends the case, fast helps; a reopen hurts."""
    change = event.payload()
    assert isinstance(change, FeedbackStatusChangedV1)
    if change.type is not FeedbackType.complaint:
        return  # inquiries, technical support and suggestions are cases too, but not complaints
    fid = str(change.feedback_id)
    if change.reopened:
        await _fold(
            session,
            event,
            change.customer_id,
            lambda i, c: calculation.reopen_case(i, fid, change.severity, change.changed_at, c),
        )
    elif change.current in (CaseStatus.resolved, CaseStatus.closed):
        await _fold(
            session, event, change.customer_id, lambda i, c: calculation.resolve_case(i, fid, change.changed_at, c)
        )
    # acknowledged / in progress: no score signal, no row touched


async def on_sla_breached(session: AsyncSession, event: Envelope) -> None:
    breach = event.payload()
    assert isinstance(breach, SlaBreachedV1)
    if breach.type is not FeedbackType.complaint:
        return  # a late answer to an inquiry is not a failed complaint case
    await _fold(
        session,
        event,
        breach.customer_id,
        lambda i, c: calculation.breach_case(i, str(breach.feedback_id), breach.severity, breach.breached_at, c),
    )


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The survivor's scores are recomputed from both records' inputs, with history and a
    `crm.score.changed.v2` (cause: the merge) if they moved, like after any other event."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    survivor = await merge_customer(session, merge, event.time)
    repository = ScoreRepository(session)
    survivor_row, merged_row = await repository.lock_pair(survivor, merge.merged_id)
    await repository.move_customer(merge.merged_id, survivor)
    if merged_row is not None:
        card = await scorecard(session)
        inputs = calculation.combine(_inputs(survivor_row), _inputs(merged_row), card)
        if survivor == merge.survivor_id:
            profile = merge.survivor
            inputs = calculation.set_profile(
                inputs,
                tier=profile.tier.value,
                lifecycle=profile.lifecycle_stage.value,
                credit=profile.credit_standing.value,
            )
        await _apply(session, survivor, inputs, survivor_row, card, event)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    """Scores are numbers under an id that no longer names anyone, and their explanations hold
    only model figures, so they stay; the card and the platform records go."""
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    await erase_customer(session, erasure, event.time)
