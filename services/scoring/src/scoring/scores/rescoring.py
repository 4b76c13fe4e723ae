"""Scorecard versions and rescore runs: a new model recomputes every customer from stored inputs.

A run walks `customer_scores` in id order, one batch per transaction: the batch's rows are
locked, recomputed with the run's scorecard, their history rows and `crm.score.changed.v2`
events written, and the run's cursor and counters moved, all in one commit. A crash loses at
most the batch in hand; the next pass (any worker: runs are claimed with SKIP LOCKED) resumes
after the cursor. Events for a customer wait for the batch holding its row, so the two never
interleave.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_cursor, decode_time_cursor, encode_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound, ProblemError, ValidationFailed
from crm_shared.messaging.outbox import add_events
from crm_shared.observability import context
from scoring import calculation
from scoring.scores import daily
from scoring.scores.models import RescoreRun, ScorecardVersion
from scoring.scores.repository import ScorecardRepository, ScoreRepository
from scoring.scores.schemas import (
    RescoreRunPage,
    RescoreRunRead,
    ScorecardConfig,
    ScorecardPage,
    ScorecardRead,
    ScorecardWrite,
)
from scoring.scores.service import RESCORE_CAUSE_TYPE, build_update, scorecard

BATCH_SIZE = 500


def scorecard_read(row: ScorecardVersion, run: RescoreRun | None = None) -> ScorecardRead:
    card = calculation.Scorecard.from_config(row.version, row.config)
    return ScorecardRead(
        version=row.version,
        model_version=card.model_version,
        config=ScorecardConfig.model_validate(card.config()),
        comment=row.comment,
        created_by=row.created_by,
        created_at=row.created_at,
        rescore_run=RescoreRunRead.model_validate(run) if run else None,
    )


async def current_scorecard(session: AsyncSession) -> ScorecardRead:
    row = await ScorecardRepository(session).current()
    if row is None:
        raise NotFound("Scorecard", "current")
    return scorecard_read(row)


async def put_scorecard(session: AsyncSession, body: ScorecardWrite, actor: str) -> ScorecardRead:
    """A new version (numbered after the current one); optionally a rescore run with it."""
    repository = ScorecardRepository(session)
    version = await repository.next_version()
    card = calculation.Scorecard.from_config(version, body.config())
    problems = calculation.validate(card)
    if problems:
        raise ProblemError(
            422,
            "Validation failed",
            "; ".join(f"{f}: {m}" for f, m in problems),
            type="validation-error",
            errors=[{"field": f, "message": m, "code": "invalid_scorecard"} for f, m in problems],
        )
    row = await repository.insert(
        ScorecardVersion(
            version=version, config=card.config(), comment=body.comment, created_by=actor, created_at=utcnow()
        )
    )
    run = await _new_run(session, version, actor) if body.rescore else None
    return scorecard_read(row, run)


async def scorecard_versions(session: AsyncSession, *, limit: int, cursor: str | None) -> ScorecardPage:
    before = None
    if cursor:
        try:
            before = int(decode_cursor(cursor, 1)[0])
        except ValueError as exc:
            raise ProblemError(
                400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor"
            ) from exc
    rows = await ScorecardRepository(session).history(limit=limit + 1, below=before)
    last = rows[limit - 1] if len(rows) > limit else None
    return ScorecardPage(
        items=[scorecard_read(r) for r in rows[:limit]], next_cursor=encode_cursor(last.version) if last else None
    )


async def _new_run(session: AsyncSession, version: int, actor: str) -> RescoreRun:
    repository = ScoreRepository(session)
    return await repository.add_run(
        RescoreRun(
            id=uuid.uuid4(),
            scorecard_version=version,
            status="queued",
            total=await repository.count_customers(),
            done=0,
            changed=0,
            requested_by=actor,
            correlation_id=context.correlation_id() or str(uuid.uuid4()),
            created_at=utcnow(),
        )
    )


async def create_run(session: AsyncSession, version: int | None, actor: str) -> RescoreRun:
    current = await ScorecardRepository(session).current_version() or 1
    if version is not None and version != current:
        raise ValidationFailed(
            "scorecard_version", f"only the current scorecard ({current}) can be run", "not_current_scorecard"
        )
    return await _new_run(session, current, actor)


async def get_run(session: AsyncSession, run_id: uuid.UUID) -> RescoreRun:
    run = await ScoreRepository(session).get_run(run_id)
    if run is None:
        raise NotFound("Rescore run", run_id)
    return run


async def list_runs(session: AsyncSession, *, status: str | None, limit: int, cursor: str | None) -> RescoreRunPage:
    rows = await ScoreRepository(session).runs(status=status, limit=limit + 1, before=decode_time_cursor(cursor))
    last = rows[limit - 1] if len(rows) > limit else None
    return RescoreRunPage(
        items=[RescoreRunRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )


async def run_next_batch(session: AsyncSession, batch_size: int = BATCH_SIZE) -> bool:
    """One batch of the oldest open run; False when there is no run to work on."""
    repository = ScoreRepository(session)
    run = await repository.claim_run()
    if run is None:
        return False
    if run.kind == "daily":
        await daily.run_batch(session, run, max(batch_size, daily.BATCH_SIZE))
        return True
    now = utcnow()
    current = await ScorecardRepository(session).current_version() or 1
    if run.scorecard_version < current:
        # A newer scorecard came first: events already use it, and its own run (if any) finishes the job.
        run.status, run.finished_at = "superseded", now
        return True
    if run.status == "queued":
        run.status, run.started_at = "running", now
    card = await scorecard(session, run.scorecard_version)
    rows = await repository.lock_batch(run.cursor, batch_size)
    saves: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    events = []
    with context.bind(correlation_id=run.correlation_id, causation_id=str(run.id), traceparent=None):
        for row in rows:
            if row.scorecard_version > run.scorecard_version:
                continue  # scored with a newer version already
            values, moved, event = build_update(
                row.customer_id,
                calculation.Inputs.from_json(row.inputs),
                row,
                card,
                cause_id=run.id,
                cause_type=RESCORE_CAUSE_TYPE,
                last_event_id=row.last_event_id,
                rescore_run_id=run.id,
                now=now,
                stored_inputs=row.inputs,
            )
            saves.append(values)
            if moved is not None and event is not None:
                history.append(moved)
                events.append(event)
    if saves:
        await repository.save(saves)
    if history:
        await repository.add_history(history)
        await add_events(session, events, Topics.scores)
    run.done += len(rows)
    run.changed += len(history)
    if rows:
        run.cursor = rows[-1].customer_id
    if len(rows) < batch_size:
        run.status, run.finished_at = "done", now
        run.total = max(run.total, run.done)
    return True
