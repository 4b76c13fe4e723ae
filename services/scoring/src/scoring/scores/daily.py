"""Time-aware scoring: the daily run evaluates every customer as of today (docs/scoring.md,
"Time-aware scoring").

Events evaluate a customer at its latest event (T). A customer who goes silent would keep those
scores for ever; the daily run moves the clock instead: each customer's inputs are advanced to
the run's `as_of` (decayed sums fade, silence against the ordering rhythm and contract ends are
measured against `as_of`) and scored again. Only customers whose rounded scores moved are
written: their row (with T moved to `as_of`), a history row and a `crm.score.changed.v2` naming
the run (`cause_event_type = crm.scoring.daily_run`), explained in words like any event-driven
change. Unlike a rescore run (a model change), a daily run is news about the customer: its band
drops open retention tasks.

A batch reads its rows without locks (most do not change), then locks and re-reads only the
movers, so an event folded in between is never overwritten and unchanged rows are not touched
at all (a row lock would write their tuples). The run is one of the rescore runs (kind `daily`):
the same queue, claim, cursor and progress as docs/scoring.md, "Scorecards and rescoring".
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics
from crm_shared.db import utcnow
from crm_shared.messaging.outbox import add_events
from crm_shared.observability import context
from scoring import calculation
from scoring.scores.models import RescoreRun
from scoring.scores.repository import ScorecardRepository, ScoreRepository
from scoring.scores.service import build_update, scorecard

DAILY_CAUSE_TYPE = "crm.scoring.daily_run"
BATCH_SIZE = 2000
# The daily run writes a customer when the band moved or a score moved by at least this many
# points from its stored value: time moves most scores by a tenth every day or two, and writing
# (and announcing) every such step would be noise. Smaller drifts add up until they pass it.
MIN_CHANGE = 1.0


def schedule_key(now: datetime, run_at: time) -> str | None:
    """The key of the scheduled run due at `now` (`daily:<date>`), or None before `run_at` (UTC)."""
    if now.timetz().replace(tzinfo=None) < run_at:
        return None
    return f"daily:{now.date().isoformat()}"


def _run(
    version: int, as_of: datetime, actor: str, total: int, *, key: str | None, customer_ids: list[uuid.UUID] | None
) -> RescoreRun:
    return RescoreRun(
        id=uuid.uuid4(),
        kind="daily",
        as_of=as_of,
        schedule_key=key,
        customer_ids=[str(c) for c in customer_ids] if customer_ids is not None else None,
        scorecard_version=version,
        status="queued",
        total=total,
        done=0,
        changed=0,
        requested_by=actor,
        correlation_id=context.correlation_id() or str(uuid.uuid4()),
        created_at=utcnow(),
    )


async def create_run(
    session: AsyncSession, as_of: datetime | None, actor: str, customer_ids: list[uuid.UUID] | None = None
) -> RescoreRun:
    """A daily run on demand: every customer (or the ones named) evaluated at `as_of` (default now)."""
    repository = ScoreRepository(session)
    version = await ScorecardRepository(session).current_version() or 1
    ids = sorted(set(customer_ids)) if customer_ids is not None else None
    total = len(ids) if ids is not None else await repository.count_customers()
    return await repository.add_run(_run(version, as_of or utcnow(), actor, total, key=None, customer_ids=ids))


async def schedule(session: AsyncSession, now: datetime, key: str) -> bool:
    """The scheduled run of the day, once however many workers ask; True if this call queued it."""
    repository = ScoreRepository(session)
    version = await ScorecardRepository(session).current_version() or 1
    run = _run(version, now, "schedule", await repository.count_customers(), key=key, customer_ids=None)
    return await repository.add_scheduled_run(run)


async def run_batch(session: AsyncSession, run: RescoreRun, batch_size: int = BATCH_SIZE) -> None:
    """The next batch of a daily run (the run is claimed and locked by the caller)."""
    repository = ScoreRepository(session)
    now = utcnow()
    as_of = run.as_of or now
    if run.status == "queued":
        run.status, run.started_at = "running", now
    ids = [uuid.UUID(c) for c in run.customer_ids] if run.customer_ids is not None else None
    rows = await repository.read_batch(run.cursor, batch_size, ids)
    # Each customer keeps the scorecard it was scored with: applying a newer one is a model
    # change (a rescore run's job, which opens no tasks), not news about the customer.
    cards = {v: await scorecard(session, v) for v in {row.scorecard_version for row in rows}}
    movers = [row.customer_id for row in rows if _moves(row, as_of, cards[row.scorecard_version])]
    saves: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    events = []
    if movers:
        with context.bind(correlation_id=run.correlation_id, causation_id=str(run.id), traceparent=None):
            for row in await repository.lock_rows(movers):
                card = cards.get(row.scorecard_version) or await scorecard(session, row.scorecard_version)
                inputs = calculation.advance(calculation.Inputs.from_json(row.inputs), as_of, card)
                if not material(row, calculation.compute(inputs, card, explain=False)):
                    continue  # an event moved it meanwhile, to where the clock would have
                values, moved, event = build_update(
                    row.customer_id,
                    inputs,
                    row,
                    card,
                    cause_id=run.id,
                    cause_type=DAILY_CAUSE_TYPE,
                    last_event_id=row.last_event_id,
                    now=now,
                )
                if moved is None or event is None:
                    continue  # an event moved it meanwhile, to where the clock would have
                moved["rescore_run_id"] = run.id
                saves.append(values)
                history.append(moved)
                events.append(event)
    if saves:
        await repository.save(saves)
        await repository.add_history(history)
        await add_events(session, events, Topics.scores)
    run.done += len(rows)
    run.changed += len(history)
    if rows:
        run.cursor = rows[-1].customer_id
    if len(rows) < batch_size:
        run.status, run.finished_at = "done", now
        run.total = max(run.total, run.done)


def _moves(row: Any, as_of: datetime, card: calculation.Scorecard) -> bool:
    """Whether the customer's scores moved materially at `as_of` (no lock held: a first look)."""
    inputs = calculation.Inputs.from_json(row.inputs)
    advanced = calculation.advance(inputs, as_of, card)
    if advanced is inputs:
        return False  # already evaluated at or after as_of
    return material(row, calculation.compute(advanced, card, explain=False))


def material(row: Any, score: calculation.Score) -> bool:
    """The band moved, or a score moved by at least MIN_CHANGE points from the stored one."""
    if row.band != score.band.value:
        return True
    return any(abs(getattr(row, name) - getattr(score, name)) >= MIN_CHANGE - 1e-9 for name in calculation.SCORES)
