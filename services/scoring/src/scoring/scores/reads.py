"""Reading scores: the current one, its history, and why it moved (the api's GET use cases)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound
from scoring import calculation
from scoring.scores.models import CustomerScore
from scoring.scores.repository import ScoreRepository
from scoring.scores.schemas import (
    ComponentDelta,
    ExplanationRead,
    HistoryFilters,
    ScoreChange,
    ScoreHistoryPage,
    ScoreHistoryRead,
    ScoreRead,
)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
async def get_score(session: AsyncSession, customer_id: uuid.UUID) -> CustomerScore:
    row = await ScoreRepository(session).get(customer_id)
    if row is None:
        raise NotFound("Score of customer", customer_id)
    return row


async def live_score(session: AsyncSession, keys: Mapping[str, Any]) -> ScoreRead:
    """A customer's changed scores (the live feed's keys) as `GET /v1/scores/{customer_id}` returns them."""
    return ScoreRead.model_validate(await get_score(session, uuid.UUID(str(keys["customer_id"]))))


async def score_history(
    session: AsyncSession, customer_id: uuid.UUID, *, filters: HistoryFilters, limit: int, cursor: str | None
) -> ScoreHistoryPage:
    rows = await ScoreRepository(session).history(
        customer_id, limit=limit + 1, before=decode_time_cursor(cursor), since=filters.since, until=filters.until
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return ScoreHistoryPage(
        items=[ScoreHistoryRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.computed_at, last.id) if last else None,
    )


MAX_CHANGES_EXPLAINED = 200


async def explain(session: AsyncSession, customer_id: uuid.UUID, at: datetime, window: timedelta) -> ExplanationRead:
    """Why the scores are what they were at `at`: the scores then, the scores before the window,
    every component that moved between the two, and each change in the window with its cause."""
    repository = ScoreRepository(session)
    start = at - window
    current = await repository.latest_before(customer_id, at, inclusive=True)
    if current is None and await repository.get(customer_id) is None:
        raise NotFound("Score of customer", customer_id)
    previous = await repository.latest_before(customer_id, start, inclusive=False)
    in_window = await repository.history(
        customer_id, limit=MAX_CHANGES_EXPLAINED, before=None, since=start, until=at + timedelta(microseconds=1)
    )
    in_window.reverse()
    changes = [
        ScoreChange(
            computed_at=r.computed_at,
            cause_event_id=r.cause_event_id,
            cause_event_type=r.cause_event_type,
            rescore_run_id=r.rescore_run_id,
            changed=list(r.changed or []),
            band_from=r.previous_band,
            band_to=r.band,
            health_from=r.previous_health,
            health_to=r.health,
        )
        for r in in_window
    ]
    score_deltas: dict[str, float] = {}
    deltas: list[ComponentDelta] = []
    if current is not None and previous is not None and current.id != previous.id:
        for name in calculation.SCORES:
            new, old = getattr(current, name), getattr(previous, name)
            if new is not None and old is not None and round(new - old, 1) != 0:
                score_deltas[name] = round(new - old, 1)
        deltas = [ComponentDelta(**d) for d in calculation.describe_deltas(previous.explanation, current.explanation)]
    elif current is not None and previous is None:
        deltas = [ComponentDelta(**d) for d in calculation.describe_deltas(None, current.explanation)]
    summary = _summary(current, previous, score_deltas, deltas, changes)
    return ExplanationRead(
        customer_id=customer_id,
        at=at,
        window_start=start,
        score=ScoreHistoryRead.model_validate(current) if current else None,
        previous=ScoreHistoryRead.model_validate(previous) if previous else None,
        score_deltas=score_deltas,
        deltas=deltas,
        changes=changes,
        summary=summary,
    )


def _summary(
    current: Any,
    previous: Any,
    score_deltas: dict[str, float],
    deltas: list[ComponentDelta],
    changes: list[ScoreChange],
) -> str:
    if current is None:
        return "No score was recorded for this customer by then."
    if not changes:
        return f"Nothing changed in the window; health was {current.health} ({current.band})."
    moved = ", ".join(f"{k} {'+' if v > 0 else ''}{v}" for k, v in score_deltas.items()) or "no score moved overall"
    biggest = sorted(deltas, key=lambda d: -abs(d.delta))[:3]
    causes = ", ".join(sorted({c.cause_event_type for c in changes}))
    band = f" band {previous.band} -> {current.band};" if previous is not None and previous.band != current.band else ""
    reasons = "; ".join(d.text for d in biggest)
    return f"{len(changes)} change(s) in the window ({causes}):{band} {moved}. Largest movements: {reasons}."
