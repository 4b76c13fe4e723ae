"""All queries on scores, scorecards and rescore runs.

The per-event statements (lock, save, history) are built once at import: on this hot path the
cost of constructing SQLAlchemy statements per call was larger than the database round trips.
The lock also reads the current scorecard version in the same round trip, so a new scorecard
reaches every worker with the next event and costs nothing while it does not change. They run on
the session's connection (`_core`): a Core statement gains nothing from the ORM session's execute
path (autoflush, ORM compile state, events), which cost as much CPU as the statement itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from crm_shared.db import Repository, execute_core
from crm_shared.projections import current_id_of, in_reach
from crm_shared.versioning import VersionedRepository
from scoring.scores.models import CustomerScore, RescoreRun, ScorecardVersion, ScoreHistory

_SCORES = CustomerScore.__table__
_HISTORY = ScoreHistory.__table__
_CARDS = ScorecardVersion.__table__
# What folding an event in, a rescore and the daily run read of a customer's row: not its
# explanation, the largest JSON of the row, which only readers of the API need.
_ROW_COLUMNS = [
    _SCORES.c[name]
    for name in (
        "customer_id",
        "satisfaction",
        "loyalty",
        "value",
        "churn_risk",
        "health",
        "band",
        "inputs",
        "scorecard_version",
        "recent_causes",
        "last_event_id",
        "updated_at",
    )
]
_CURRENT_VERSION = select(func.max(_CARDS.c.version)).scalar_subquery()
_LOCK = (
    select(*_ROW_COLUMNS, _CURRENT_VERSION.label("current_scorecard"))
    .where(_SCORES.c.customer_id == bindparam("customer_id"))
    .with_for_update(of=_SCORES)
)
_LOCK_CURRENT = (
    select(*_ROW_COLUMNS, _CURRENT_VERSION.label("current_scorecard"))
    .where(_SCORES.c.customer_id == current_id_of(bindparam("customer_id")))
    .with_for_update(of=_SCORES)
)
# A miss of `_LOCK_CURRENT` (a customer not scored yet): where the customer lives now, and the
# scorecard a new row starts on, in one round trip.
_MISS = select(
    current_id_of(bindparam("customer_id")).label("customer_id"), _CURRENT_VERSION.label("current_scorecard")
)
_LOCK_BOTH = (
    select(*_ROW_COLUMNS)
    .where(_SCORES.c.customer_id.in_(bindparam("customer_ids", expanding=True)))
    .order_by(_SCORES.c.customer_id)
    .with_for_update()
)
_CURRENT = select(_CURRENT_VERSION)
_CARD = select(_CARDS).where(_CARDS.c.version == bindparam("version"))
_upsert = insert(_SCORES).values({c.name: bindparam(c.name) for c in _SCORES.columns})
_SAVE = _upsert.on_conflict_do_update(
    index_elements=[_SCORES.c.customer_id],
    set_={c.name: _upsert.excluded[c.name] for c in _SCORES.columns if c.name != "customer_id"},
)
_ADD_HISTORY = insert(_HISTORY).values({c.name: bindparam(c.name) for c in _HISTORY.columns})
# An event that moved a score: the upsert and the history row in one statement (one round trip).
_SAVE_WITH_HISTORY = _SAVE.add_cte(
    insert(_HISTORY)
    .values({c.name: bindparam(f"history_{c.name}", type_=c.type) for c in _HISTORY.columns})
    .cte("history")
)
_BATCH = (
    select(*_ROW_COLUMNS)
    .where(_SCORES.c.customer_id > bindparam("after"))
    .order_by(_SCORES.c.customer_id)
    .limit(bindparam("limit"))
    .with_for_update()
)
_FIRST_BATCH = select(*_ROW_COLUMNS).order_by(_SCORES.c.customer_id).limit(bindparam("limit")).with_for_update()


_CLAIM_RUN = (
    select(RescoreRun)
    .where(RescoreRun.status.in_(("queued", "running")))
    .order_by(RescoreRun.created_at, RescoreRun.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)


class ScoreRepository(Repository):
    async def get(self, customer_id: uuid.UUID) -> CustomerScore | None:
        """The customer's scores, if the customer is within the caller's reach (crm_shared.access)."""
        if self.reach.every_customer:
            return await self.session.get(CustomerScore, customer_id)
        query = select(CustomerScore).where(
            CustomerScore.customer_id == customer_id, in_reach(self.reach, CustomerScore.customer_id)
        )
        return (await self.session.scalars(query)).first()

    async def lock(self, customer_id: uuid.UUID) -> Row[Any] | None:
        """The customer's row, locked until commit: updates of one customer apply one at a time."""
        return (await execute_core(self.session, _LOCK, {"customer_id": customer_id})).first()

    async def lock_current(self, customer_id: uuid.UUID) -> tuple[uuid.UUID, Row[Any] | None, int | None]:
        """Like `lock`, but for the id the customer lives under now (a merged id's survivor);
        also the current scorecard version.

        One query when the row exists; on a miss (a customer not scored yet, or a merge that
        committed while this waited for the lock) the alias is read again (with the scorecard
        version) and followed.
        """
        row = (await execute_core(self.session, _LOCK_CURRENT, {"customer_id": customer_id})).first()
        if row is not None:
            return row.customer_id, row, row.current_scorecard
        miss = (await execute_core(self.session, _MISS, {"customer_id": customer_id})).one()
        current, version = miss.customer_id, miss.current_scorecard
        if current == customer_id:
            return current, None, version
        row = await self.lock(current)
        return current, row, (row.current_scorecard if row is not None else version)

    async def lock_pair(self, first: uuid.UUID, second: uuid.UUID) -> tuple[Row[Any] | None, Row[Any] | None]:
        """Both rows, locked in id order so two merges never wait on each other in a cycle."""
        rows = {
            r.customer_id: r for r in await execute_core(self.session, _LOCK_BOTH, {"customer_ids": [first, second]})
        }
        return rows.get(first), rows.get(second)

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        """The merged record's current row goes (its inputs were combined); its history stays, re-pointed."""
        await self.session.execute(delete(CustomerScore).where(CustomerScore.customer_id == from_id))
        await self.session.execute(
            update(ScoreHistory).where(ScoreHistory.customer_id == from_id).values(customer_id=to_id)
        )

    async def save(self, values: dict[str, Any] | list[dict[str, Any]]) -> None:
        await execute_core(self.session, _SAVE, values)

    async def save_with_history(self, values: dict[str, Any], history: dict[str, Any]) -> None:
        """`save` and `add_history` of one customer in one statement."""
        await execute_core(self.session, _SAVE_WITH_HISTORY, values | {f"history_{k}": v for k, v in history.items()})

    async def add_history(self, values: dict[str, Any] | list[dict[str, Any]]) -> None:
        await execute_core(self.session, _ADD_HISTORY, values)

    async def history(
        self,
        customer_id: uuid.UUID,
        *,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[ScoreHistory]:
        """Newest first; `since` inclusive, `until` exclusive."""
        query = select(ScoreHistory).where(
            ScoreHistory.customer_id == customer_id, in_reach(self.reach, ScoreHistory.customer_id)
        )
        if before:
            query = query.where(tuple_(ScoreHistory.computed_at, ScoreHistory.id) < tuple_(*before))
        if since is not None:
            query = query.where(ScoreHistory.computed_at >= since)
        if until is not None:
            query = query.where(ScoreHistory.computed_at < until)
        query = query.order_by(ScoreHistory.computed_at.desc(), ScoreHistory.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def latest_before(self, customer_id: uuid.UUID, at: datetime, *, inclusive: bool) -> ScoreHistory | None:
        """The history row in force at `at` (inclusive) or just before it."""
        when = ScoreHistory.computed_at <= at if inclusive else ScoreHistory.computed_at < at
        query = (
            select(ScoreHistory)
            .where(ScoreHistory.customer_id == customer_id, when, in_reach(self.reach, ScoreHistory.customer_id))
            .order_by(ScoreHistory.computed_at.desc(), ScoreHistory.id.desc())
            .limit(1)
        )
        return (await self.session.scalars(query)).first()

    # rescore runs ---------------------------------------------------------------------------
    async def count_customers(self) -> int:
        return (await self.session.execute(select(func.count()).select_from(_SCORES))).scalar_one()

    async def add_run(self, run: RescoreRun) -> RescoreRun:
        return await self.insert(run)

    async def get_run(self, run_id: uuid.UUID) -> RescoreRun | None:
        return await self.session.get(RescoreRun, run_id)

    async def claim_run(self) -> RescoreRun | None:
        """The oldest unfinished run no other worker holds right now, locked until commit
        (prebuilt: every worker asks twice a second)."""
        return (await self.session.scalars(_CLAIM_RUN)).first()

    async def runs(
        self, *, status: str | None, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[RescoreRun]:
        query = select(RescoreRun)
        if status is not None:
            query = query.where(RescoreRun.status == status)
        if before:
            query = query.where(tuple_(RescoreRun.created_at, RescoreRun.id) < tuple_(*before))
        query = query.order_by(RescoreRun.created_at.desc(), RescoreRun.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def lock_batch(self, after: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        """The next customers by id, locked: an event for one of them waits for the batch (or the other way round)."""
        if after is None:
            return list((await execute_core(self.session, _FIRST_BATCH, {"limit": limit})).all())
        return list((await execute_core(self.session, _BATCH, {"after": after, "limit": limit})).all())

    async def read_batch(self, after: uuid.UUID | None, limit: int, ids: list[uuid.UUID] | None) -> list[Row[Any]]:
        """The next customers by id (of `ids` if given), unlocked: the daily run's first look."""
        query = select(*_ROW_COLUMNS).order_by(_SCORES.c.customer_id).limit(limit)
        if after is not None:
            query = query.where(_SCORES.c.customer_id > after)
        if ids is not None:
            query = query.where(_SCORES.c.customer_id.in_(ids))
        return list((await self.session.execute(query)).all())

    async def lock_rows(self, ids: list[uuid.UUID]) -> list[Row[Any]]:
        """These customers' rows, locked in id order (what an event holds while it folds in)."""
        query = (
            select(*_ROW_COLUMNS)
            .where(_SCORES.c.customer_id.in_(ids))
            .order_by(_SCORES.c.customer_id)
            .with_for_update()
        )
        return list((await self.session.execute(query)).all())

    async def add_scheduled_run(self, run: RescoreRun) -> bool:
        """Queue a scheduled run unless its `schedule_key` exists already; True if queued."""
        values = {
            c.name: getattr(run, c.name) for c in RescoreRun.__table__.columns if getattr(run, c.name) is not None
        }
        statement = (
            insert(RescoreRun)
            .values(values)
            .on_conflict_do_nothing(index_elements=["schedule_key"])
            .returning(RescoreRun.id)
        )
        return (await self.session.execute(statement)).scalar() is not None


class ScorecardRepository(VersionedRepository[ScorecardVersion]):
    model = ScorecardVersion
    lock_id = 0x5C0BECA4D

    async def current_version(self) -> int | None:
        """Prebuilt: every event that finds no score row reads it."""
        return (await execute_core(self.session, _CURRENT, None)).scalar()

    async def scorecard(self, version: int) -> Row[Any] | None:
        return (await execute_core(self.session, _CARD, {"version": version})).first()
