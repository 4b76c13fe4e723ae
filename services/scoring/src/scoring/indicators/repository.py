"""All queries of the indicator system.

The per-event statements are one multi-row upsert each (counters, gauges, order counts, alert
states), built once at import: an event costs a constant number of round trips, whatever the
history holds. The counters' upsert takes its rows as one array per column (one statement of a
fixed shape, however many rows), reads the segments' gauges for new rows in the same statement,
and returns the thresholds' change stamp, so the threshold check needs no query of its own while
no admin edits them. They run on the session's connection (`_core`), past the ORM session's
execute path, and the customer's segments are read with one prebuilt statement that follows a
merged id's alias in the same round trip.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Row,
    String,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert

from crm_shared.db import Repository, execute_core
from crm_shared.projections import CustomerAlias, CustomerProjection
from crm_shared.versioning import VersionedRepository, change_stamp
from scoring.indicators.formulas import COUNTERS
from scoring.indicators.models import (
    IndicatorAlert,
    IndicatorAlertState,
    IndicatorComplaint,
    IndicatorCounters,
    IndicatorCustomer,
    IndicatorCustomerOrders,
    IndicatorSegment,
    IndicatorSegmentThresholdVersion,
    IndicatorThresholdVersion,
)

_COUNTERS = IndicatorCounters.__table__
_SEGMENTS = IndicatorSegment.__table__
_ORDERS = IndicatorCustomerOrders.__table__
_STATE = IndicatorAlertState.__table__
_KEY = ("dimension", "segment", "period", "period_start")

# The counters an event adds to (all but the gauge, which only a new row takes, from the segment).
DELTAS = tuple(name for name in COUNTERS if name != "customers_at_start")
_ARRAY_TYPES = {"period_start": ARRAY(DateTime(timezone=True))} | {
    name: ARRAY(Float if isinstance(_COUNTERS.c[name].type, Float) else BigInteger) for name in DELTAS
}
_rows = (
    func.unnest(*(bindparam(name, type_=_ARRAY_TYPES.get(name, ARRAY(String))) for name in (*_KEY, *DELTAS)))
    .table_valued(*_KEY, *DELTAS)
    .render_derived(name="row")
)
_new_rows = (
    select(
        *(_rows.c[name] for name in (*_KEY, *DELTAS)),
        func.coalesce(_SEGMENTS.c.active_customers, 0).label("customers_at_start"),
    )
    .select_from(
        _rows.outerjoin(
            _SEGMENTS, and_(_SEGMENTS.c.dimension == _rows.c.dimension, _SEGMENTS.c.segment == _rows.c.segment)
        )
    )
    .order_by(*(_rows.c[name] for name in _KEY))  # the lock order
)
_add_counters = insert(_COUNTERS).from_select([*_KEY, *DELTAS, "customers_at_start"], _new_rows)
_ADD_COUNTERS = _add_counters.on_conflict_do_update(
    index_elements=list(_KEY),
    set_={**{name: _COUNTERS.c[name] + _add_counters.excluded[name] for name in DELTAS}, "updated_at": func.now()},
).returning(
    _COUNTERS,
    change_stamp(IndicatorThresholdVersion.__table__, IndicatorSegmentThresholdVersion.__table__).label(
        "thresholds_stamp"
    ),
)
_COMPLAINTS = IndicatorComplaint.__table__
_COMPLAINT_VALUES = ("feedback_id", "received_at", "tier", "region", "industry", "owner")
_ADD_COMPLAINT = insert(_COMPLAINTS).on_conflict_do_nothing(index_elements=["feedback_id"])
# A new complaint: its clocks' row is written by the counters' statement too (one round trip).
_ADD_COUNTERS_AND_COMPLAINT = _ADD_COUNTERS.add_cte(
    insert(_COMPLAINTS)
    .values({name: bindparam(f"complaint_{name}", type_=_COMPLAINTS.c[name].type) for name in _COMPLAINT_VALUES})
    .on_conflict_do_nothing(index_elements=["feedback_id"])
    .cte("complaint")
)

_add_gauge = insert(_SEGMENTS)
_ADD_GAUGE = _add_gauge.on_conflict_do_update(
    index_elements=["dimension", "segment"],
    set_={"active_customers": _SEGMENTS.c.active_customers + _add_gauge.excluded.active_customers},
)

_add_orders = insert(_ORDERS)
_ADD_ORDERS = _add_orders.on_conflict_do_update(
    index_elements=["customer_id", "period", "period_start"], set_={"orders": _ORDERS.c.orders + 1}
).returning(_ORDERS.c.period, _ORDERS.c.period_start, _ORDERS.c.orders)

# The no-op update makes the upsert lock an existing row and return it: one statement both
# creates the missing states and locks them all, in the caller's (sorted) order.
_lock_states = insert(_STATE)
_LOCK_STATES = _lock_states.on_conflict_do_update(
    index_elements=["indicator", "dimension", "segment"], set_={"open_alert_id": _STATE.c.open_alert_id}
).returning(_STATE)

_SET_STATE = (
    _STATE.update()
    .where(
        _STATE.c.indicator == bindparam("key_indicator"),
        _STATE.c.dimension == bindparam("key_dimension"),
        _STATE.c.segment == bindparam("key_segment"),
    )
    .values(open_alert_id=bindparam("open_alert_id"))
)

# The customer's segments from the shared projection: its own card, else (a merged id) the
# survivor's, as `crm_shared.projections.get_customer` answers, in one round trip.
_CARD = CustomerProjection.__table__
_ALIASES = CustomerAlias.__table__
_SEGMENT_COLUMNS = (_CARD.c.tier, _CARD.c.region, _CARD.c.industry, _CARD.c.owner)
_own = select(literal(0).label("rank"), *_SEGMENT_COLUMNS).where(_CARD.c.customer_id == bindparam("customer_id"))
_via_alias = (
    select(literal(1).label("rank"), *_SEGMENT_COLUMNS)
    .select_from(_CARD.join(_ALIASES, _ALIASES.c.survivor_id == _CARD.c.customer_id))
    .where(_ALIASES.c.merged_id == bindparam("customer_id"))
)
_union = union_all(_own, _via_alias).subquery()
_SEGMENTS_OF = select(_union).order_by(_union.c.rank).limit(1)


class IndicatorRepository(Repository):
    # --- per event ---------------------------------------------------------------------

    async def add_to_gauges(self, deltas: dict[tuple[str, str], int]) -> None:
        rows = [{"dimension": d, "segment": s, "active_customers": n} for (d, s), n in sorted(deltas.items()) if n]
        if rows:
            await execute_core(self.session, _ADD_GAUGE, rows)

    async def add_to_counters(
        self, rows: list[dict[str, Any]], complaint: dict[str, Any] | None = None
    ) -> list[Row[Any]]:
        """Adds each row's deltas to its counters and returns the counters as they are now, each
        with the thresholds' `thresholds_stamp`. A new row starts with its segment's active
        customers of that moment (`customers_at_start`, set by the insert only). A `complaint`
        (as `add_complaint` takes it) is stored by the same statement."""
        params = {name: [row.get(name, 0) for row in rows] for name in (*_KEY, *DELTAS)}
        if complaint is None:
            return list((await execute_core(self.session, _ADD_COUNTERS, params)).all())
        params |= {f"complaint_{name}": complaint[name] for name in _COMPLAINT_VALUES}
        return list((await execute_core(self.session, _ADD_COUNTERS_AND_COMPLAINT, params)).all())

    async def count_order(self, customer_id: uuid.UUID, periods: list[tuple[str, datetime]]) -> dict[str, int]:
        rows = [{"customer_id": customer_id, "period": p, "period_start": s, "orders": 1} for p, s in periods]
        return {r.period: r.orders for r in await execute_core(self.session, _ADD_ORDERS, rows)}

    async def segments_of(self, customer_id: uuid.UUID) -> Row[Any] | None:
        """(tier, region, industry, owner) of the customer's card here (a merged id: the survivor's)."""
        return (await execute_core(self.session, _SEGMENTS_OF, {"customer_id": customer_id})).first()

    async def customer(self, customer_id: uuid.UUID) -> IndicatorCustomer | None:
        query = (
            select(IndicatorCustomer)
            .where(IndicatorCustomer.customer_id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).first()

    async def save_customer(self, values: dict[str, Any]) -> None:
        statement = insert(IndicatorCustomer).values(values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["customer_id"], set_={k: statement.excluded[k] for k in values if k != "customer_id"}
            )
        )

    async def forget_customers(self, customer_ids: list[uuid.UUID]) -> list[IndicatorCustomer]:
        """Removes the per-customer rows (segments, order counts); returns the removed memberships."""
        removed = list(
            (
                await self.session.scalars(
                    delete(IndicatorCustomer)
                    .where(IndicatorCustomer.customer_id.in_(customer_ids))
                    .returning(IndicatorCustomer)
                )
            ).all()
        )
        await self.session.execute(delete(IndicatorCustomerOrders).where(_ORDERS.c.customer_id.in_(customer_ids)))
        return removed

    async def complaint(self, feedback_id: uuid.UUID) -> IndicatorComplaint | None:
        query = (
            select(IndicatorComplaint)
            .where(IndicatorComplaint.feedback_id == feedback_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.scalars(query)).first()

    async def add_complaint(self, values: dict[str, Any]) -> None:
        await execute_core(self.session, _ADD_COMPLAINT, values)

    async def lock_states(self, keys: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], Row[Any]]:
        rows = [{"indicator": i, "dimension": d, "segment": s, "open_alert_id": None} for i, d, s in sorted(keys)]
        result = await execute_core(self.session, _LOCK_STATES, rows)
        return {(r.indicator, r.dimension, r.segment): r for r in result}

    async def set_state(self, key: tuple[str, str, str], open_alert_id: uuid.UUID | None) -> None:
        indicator, dimension, segment = key
        params = {"key_indicator": indicator, "key_dimension": dimension, "key_segment": segment}
        await execute_core(self.session, _SET_STATE, params | {"open_alert_id": open_alert_id})

    async def add_alert(self, alert: IndicatorAlert) -> IndicatorAlert:
        return await self.insert(alert)

    # --- reads -------------------------------------------------------------------------

    async def counters(
        self,
        *,
        dimension: str,
        period: str,
        since: datetime | None,
        until: datetime | None,
        segment: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Row[Any]]:
        """Newest period first, then segment; keyset `after` = (period_start, segment) of the last row."""
        query = select(_COUNTERS).where(_COUNTERS.c.dimension == dimension, _COUNTERS.c.period == period)
        if since is not None:
            query = query.where(_COUNTERS.c.period_start >= since)
        if until is not None:
            query = query.where(_COUNTERS.c.period_start < until)
        if segment is not None:
            query = query.where(_COUNTERS.c.segment == segment)
        if after is not None:
            start, seg = after
            query = query.where(
                (_COUNTERS.c.period_start < start) | ((_COUNTERS.c.period_start == start) & (_COUNTERS.c.segment > seg))
            )
        query = query.order_by(_COUNTERS.c.period_start.desc(), _COUNTERS.c.segment).limit(limit)
        return list((await self.session.execute(query)).all())

    async def alert(self, alert_id: uuid.UUID) -> IndicatorAlert | None:
        return await self.session.get(IndicatorAlert, alert_id, populate_existing=True)

    async def lock_alert(self, alert_id: uuid.UUID) -> IndicatorAlert | None:
        return await self.session.get(IndicatorAlert, alert_id, with_for_update=True, populate_existing=True)

    async def alerts(
        self,
        *,
        state: str | None,
        indicator: str | None,
        dimension: str | None,
        segment: str | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[IndicatorAlert]:
        query = select(IndicatorAlert)
        if state is not None:
            query = query.where(IndicatorAlert.state == state)
        if indicator is not None:
            query = query.where(IndicatorAlert.indicator == indicator)
        if dimension is not None:
            query = query.where(IndicatorAlert.dimension == dimension)
        if segment is not None:
            query = query.where(IndicatorAlert.segment == segment)
        if before is not None:
            query = query.where(tuple_(IndicatorAlert.opened_at, IndicatorAlert.id) < tuple_(*before))
        query = query.order_by(IndicatorAlert.opened_at.desc(), IndicatorAlert.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())


class ThresholdRepository(VersionedRepository[IndicatorThresholdVersion]):
    """One series of versions per indicator."""

    model = IndicatorThresholdVersion
    key_column = "indicator"
    lock_id = 0x696E_6474

    async def thresholds(self) -> dict[str, IndicatorThresholdVersion]:
        """The version in force of every indicator that was ever set (the others use defaults)."""
        return {t.indicator: t for t in await self.current_all()}


class SegmentThresholdRepository(VersionedRepository[IndicatorSegmentThresholdVersion]):
    """One series of versions per (indicator, dimension, segment): the `scope` key."""

    model = IndicatorSegmentThresholdVersion
    key_column = "scope"
    lock_id = 0x7365_6774

    async def overrides(self) -> dict[tuple[str, str, str], IndicatorSegmentThresholdVersion]:
        """The version in force of every segment override not removed, by (indicator, dimension, segment)."""
        return {(t.indicator, t.dimension, t.segment): t for t in await self.current_all() if not t.removed}
