"""Indicator use cases: folding events into counters, checking thresholds, reads. Never commits.

Each consumed event adds its deltas to the counters of every segment and period it belongs to
(one upsert), then checks the thresholds of the indicators it moved, in the current period
only, and opens or closes alerts. Handlers run in the consumer's transaction, once per event
id (the runner's inbox), so a redelivered event changes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope, Topics, new_event
from crm_shared.contracts.events import (
    ActivityRecordedV1,
    ContactErasedV1,
    ContactMergedV1,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    IndicatorThresholdCrossedV1,
    LifecycleChangedV1,
    OrderActivity,
    SlaBreachedV1,
    _CustomerCard,
)
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_cursor, decode_time_cursor, encode_cursor, encode_time_cursor
from crm_shared.http.problems import NotFound, ProblemError, ValidationFailed
from crm_shared.messaging.outbox import add_event
from crm_shared.projections import get_customer
from scoring.indicators import formulas
from scoring.indicators.formulas import COUNTERS, Membership, Segments, Threshold
from scoring.indicators.models import IndicatorAlert, IndicatorComplaint, IndicatorThresholdVersion
from scoring.indicators.repository import IndicatorRepository
from scoring.indicators.schemas import (
    AlertPage,
    AlertRead,
    IndicatorFilters,
    IndicatorPage,
    IndicatorPoint,
    IndicatorValue,
    SegmentPeriod,
    SeriesFilters,
    SeriesPage,
    ThresholdList,
    ThresholdRead,
    ThresholdSet,
)

SOURCE = "crm/scoring"
EVENT_TYPE = "crm.indicator.threshold_crossed.v1"


# --- folding events into counters --------------------------------------------------------


async def _segments_of(session: AsyncSession, customer_id: uuid.UUID, tier: str | None, owner: str | None) -> Segments:
    """The customer's segments now (the shared projection), else what the event itself carried."""
    card = await get_customer(session, customer_id)
    if card is None:
        return Segments.of(tier, None, None, owner)
    return Segments.of(card.tier, card.region, card.industry, card.owner)


async def _add(
    session: AsyncSession,
    segments: Segments,
    at: datetime,
    deltas: dict[str, float],
    *,
    gauge_deltas: dict[tuple[str, str], int] | None = None,
    per_key: dict[tuple[str, str], dict[str, float]] | None = None,
    per_period: dict[str, dict[str, float]] | None = None,
) -> None:
    """One upsert for every (dimension, segment, period) the event touches, then the threshold check.

    `per_key` adds deltas to given (dimension, segment) keys only (moves between segments);
    `per_period` to given period kinds only (repeat buyers). A new counter row starts with the
    segment's active customers of that moment (`customers_at_start`).
    """
    repository = IndicatorRepository(session)
    rows: dict[tuple[str, str, str, datetime], dict[str, float]] = {}
    keys = [(d, s) for d, s in segments.keys()] if deltas or per_period else []
    for dimension, segment in [*keys, *(per_key or {})]:
        for period in formulas.PERIODS:
            row = rows.setdefault((dimension, segment, period, formulas.period_start(period, at)), {})
            if (dimension, segment) in keys:
                for name, value in {**deltas, **(per_period or {}).get(period, {})}.items():
                    row[name] = row.get(name, 0) + value
            for name, value in (per_key or {}).get((dimension, segment), {}).items():
                row[name] = row.get(name, 0) + value
    # A row whose only change is the gauge is still written: the period must remember that the
    # customer who left was there at its start.
    moved = {key for key, delta in (gauge_deltas or {}).items() if delta}
    rows = {key: row for key, row in rows.items() if any(row.values()) or key[:2] in moved}
    if not rows:
        return
    gauges = await repository.gauges(sorted({(d, s) for d, s, _, _ in rows}))
    batch = [
        {
            "dimension": d,
            "segment": s,
            "period": p,
            "period_start": start,
            **row,
            "customers_at_start": gauges.get((d, s), 0),
        }
        for (d, s, p, start), row in sorted(rows.items())
    ]
    counters = await repository.add_to_counters(batch)
    if gauge_deltas:
        await repository.add_to_gauges(gauge_deltas)
    touched = {(d, s, p, start): formulas.touched(row) for (d, s, p, start), row in rows.items()}
    await _check_thresholds(session, counters, touched)


async def on_card(session: AsyncSession, card: _CustomerCard, at: datetime) -> None:
    """A created or updated card (or a merge's survivor): move the customer between segments.

    A late card of a customer since erased or merged away is not counted again: the shared
    projection (applied first) keeps their tombstone and alias."""
    stored = await get_customer(session, card.customer_id)
    if stored is not None and (stored.erased_at is not None or stored.customer_id != card.customer_id):
        return
    await _move(
        session,
        card.customer_id,
        Membership(Segments.of(card.tier.value, card.region, card.industry, card.owner), card.lifecycle_stage.value),
        at,
    )


async def _move(session: AsyncSession, customer_id: uuid.UUID, new: Membership, at: datetime) -> None:
    repository = IndicatorRepository(session)
    row = await repository.customer(customer_id)
    if row is not None and row.as_of > at:
        return  # an older card than the one counted
    old = _membership(row) if row is not None else None
    await repository.save_customer(
        {
            "customer_id": customer_id,
            "tier": new.segments.tier,
            "region": new.segments.region,
            "industry": new.segments.industry,
            "owner": new.segments.owner,
            "stage": new.stage,
            "as_of": at,
        }
    )
    await _apply_changes(session, formulas.membership_changes(old, new), at)


def _membership(row: Any) -> Membership:
    return Membership(Segments(row.tier, row.region, row.industry, row.owner), row.stage)


async def _apply_changes(session: AsyncSession, changes: list[formulas.SegmentChange], at: datetime) -> None:
    if not changes:
        return
    per_key: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    gauges: dict[tuple[str, str], int] = defaultdict(int)
    for change in changes:
        key = (change.dimension, change.segment)
        gauges[key] += change.gauge
        entry = per_key[key]
        entry["customers_joined"] = entry.get("customers_joined", 0) + change.joined
        entry["customers_churned"] = entry.get("customers_churned", 0) + change.churned
    await _add(session, Segments.of(None, None, None, None), at, {}, gauge_deltas=gauges, per_key=per_key)


async def on_contact_card(session: AsyncSession, event: Envelope) -> None:
    card = event.payload()
    assert isinstance(card, _CustomerCard)
    await on_card(session, card, event.time)


async def on_lifecycle_changed(session: AsyncSession, event: Envelope) -> None:
    change = event.payload()
    assert isinstance(change, LifecycleChangedV1)
    row = await IndicatorRepository(session).customer(change.customer_id)
    if row is None:
        card = await get_customer(session, change.customer_id)
        if card is None or card.customer_id != change.customer_id or card.erased_at is not None:
            return  # not a customer this consumer counts (unknown, merged away or erased)
        segments = Segments.of(card.tier, card.region, card.industry, card.owner)
    else:
        segments = _membership(row).segments
    await _move(session, change.customer_id, Membership(segments, change.current.value), event.time)


async def _forget(session: AsyncSession, customer_ids: list[uuid.UUID], at: datetime) -> None:
    """The customers leave the segment gauges (not as churn); their per-customer rows go."""
    removed = await IndicatorRepository(session).forget_customers(customer_ids)
    changes = [change for row in removed for change in formulas.membership_changes(_membership(row), None)]
    await _apply_changes(session, changes, at)  # one pass: rows are locked once, in one order


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """The merged record was a duplicate: it stops counting; the survivor's card is applied.
    Counters already added keep their history (they hold no customer)."""
    merge = event.payload()
    assert isinstance(merge, ContactMergedV1)
    await _forget(session, [merge.merged_id], event.time)
    await on_card(session, merge.survivor, event.time)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    """Nothing personal is kept here; the customer's ids and segment rows go, the aggregates stay."""
    erasure = event.payload()
    assert isinstance(erasure, ContactErasedV1)
    await _forget(session, [erasure.customer_id, *erasure.aliases], event.time)


async def on_activity_recorded(session: AsyncSession, event: Envelope) -> None:
    activity = event.payload()
    assert isinstance(activity, ActivityRecordedV1)
    order = activity.details
    if not isinstance(order, OrderActivity):
        return
    card = await get_customer(session, activity.customer_id)
    customer_id = card.customer_id if card is not None else activity.customer_id
    segments = (
        Segments.of(card.tier, card.region, card.industry, card.owner) if card else Segments.of(None, None, None, None)
    )
    at = activity.occurred_at
    counts = await IndicatorRepository(session).count_order(
        customer_id, [(p, formulas.period_start(p, at)) for p in formulas.PERIODS]
    )
    per_period = {}
    for period, orders in counts.items():
        buyers, repeat = formulas.order_buyer_deltas(orders)
        per_period[period] = {"buyers": buyers, "repeat_buyers": repeat}
    amount = float(order.amount)
    deltas = {"orders": 1, "order_value": amount, "key_order_value": amount if segments.tier == "key" else 0}
    await _add(session, segments, at, deltas, per_period=per_period)


async def on_feedback_received(session: AsyncSession, event: Envelope) -> None:
    feedback = event.payload()
    assert isinstance(feedback, FeedbackReceivedV1)
    segments = await _segments_of(session, feedback.customer_id, feedback.customer.tier.value, feedback.customer.owner)
    if feedback.type.value == "complaint":
        await IndicatorRepository(session).add_complaint(
            {
                "feedback_id": feedback.feedback_id,
                "received_at": feedback.received_at,
                "tier": segments.tier,
                "region": segments.region,
                "industry": segments.industry,
                "owner": segments.owner,
            }
        )
        await _add(session, segments, feedback.received_at, {"complaints": 1})
    elif feedback.survey is not None:
        deltas = formulas.survey_deltas(feedback.survey.metric.value, feedback.survey.score)
        await _add(session, segments, feedback.received_at, deltas)


def _complaint_segments(complaint: IndicatorComplaint) -> Segments:
    return Segments(complaint.tier, complaint.region, complaint.industry, complaint.owner)


def _clocks(complaint: IndicatorComplaint) -> formulas.ComplaintClocks:
    return formulas.ComplaintClocks(
        **{f.name: getattr(complaint, f.name) for f in dataclass_fields(formulas.ComplaintClocks)}
    )


async def _save_clocks(session: AsyncSession, complaint: IndicatorComplaint, clocks: formulas.ComplaintClocks) -> None:
    for f in dataclass_fields(clocks):
        setattr(complaint, f.name, getattr(clocks, f.name))
    await session.flush()


async def on_status_changed(session: AsyncSession, event: Envelope) -> None:
    change = event.payload()
    assert isinstance(change, FeedbackStatusChangedV1)
    complaint = await IndicatorRepository(session).complaint(change.feedback_id)
    if complaint is None:
        return  # received before the indicators existed: its clocks are not measured
    previous = change.previous.value if change.previous else None
    clocks, deltas = formulas.status_changed(
        _clocks(complaint), previous, change.current.value, change.reopened, change.changed_at
    )
    await _save_clocks(session, complaint, clocks)
    await _add(session, _complaint_segments(complaint), change.changed_at, deltas)


async def on_sla_breached(session: AsyncSession, event: Envelope) -> None:
    breach = event.payload()
    assert isinstance(breach, SlaBreachedV1)
    complaint = await IndicatorRepository(session).complaint(breach.feedback_id)
    if complaint is None:
        segments = await _segments_of(session, breach.customer_id, breach.customer.tier.value, breach.customer.owner)
        deltas: dict[str, float] = {"sla_breached": 1}
    else:
        clocks, deltas = formulas.sla_breached(_clocks(complaint), breach.clock)
        await _save_clocks(session, complaint, clocks)
        segments = _complaint_segments(complaint)
    await _add(session, segments, breach.breached_at, deltas)


# --- thresholds and alerts ---------------------------------------------------------------


async def thresholds_in_force(session: AsyncSession) -> dict[str, tuple[Threshold, int]]:
    """Every indicator's threshold and its version (0 = the shipped default)."""
    stored = await IndicatorRepository(session).thresholds()
    result: dict[str, tuple[Threshold, int]] = {}
    for name, default in formulas.DEFAULT_THRESHOLDS.items():
        record = stored.get(name)
        if record is None:
            result[name] = (default, 0)
        else:
            threshold = Threshold(
                record.value,
                record.direction,  # type: ignore[arg-type]
                record.min_sample,
                record.enabled,
                record.period,  # type: ignore[arg-type]
            )
            result[name] = (threshold, record.version)
    return result


async def _check_thresholds(
    session: AsyncSession, counters: list[Row[Any]], touched: dict[tuple[str, str, str, datetime], list[str]]
) -> None:
    now = utcnow()
    current = {p: formulas.period_start(p, now) for p in formulas.PERIODS}
    if not any(names and start == current[p] for (_, _, p, start), names in touched.items()):
        return  # nothing this event moved is checked (a past period, or only a gauge)
    thresholds = await thresholds_in_force(session)
    candidates: dict[tuple[str, str, str], tuple[Row[Any], float, int]] = {}
    for row in counters:
        if row.period_start != current[row.period]:
            continue  # a late event for a past period: alerts are about the current one
        for name in touched.get((row.dimension, row.segment, row.period, row.period_start), []):
            threshold, _ = thresholds[name]
            if not threshold.enabled or threshold.period != row.period:
                continue
            value, sample = formulas.INDICATORS[name].compute(row._mapping)
            if value is None or sample < threshold.min_sample:
                continue
            candidates[(name, row.dimension, row.segment)] = (row, value, sample)
    if not candidates:
        return
    repository = IndicatorRepository(session)
    states = await repository.lock_states(list(candidates))
    for key, (row, value, sample) in sorted(candidates.items()):
        threshold, version = thresholds[key[0]]
        state = states[key]
        transition = formulas.crossing(state.open_alert_id is not None, value, sample, threshold)
        if transition == "crossed":
            alert = await repository.add_alert(
                IndicatorAlert(
                    id=new_id(),
                    indicator=key[0],
                    dimension=row.dimension,
                    segment=row.segment,
                    period=row.period,
                    period_start=row.period_start,
                    period_end=formulas.period_end(row.period, row.period_start),
                    state="open",
                    value=value,
                    sample_size=sample,
                    threshold=threshold.value,
                    direction=threshold.direction,
                    threshold_version=version,
                    opened_at=now,
                )
            )
            await repository.set_state(key, alert.id)
            await _publish(session, alert, value, "crossed", now)
        elif transition == "recovered":
            assert state.open_alert_id is not None
            alert = await repository.lock_alert(state.open_alert_id)
            await repository.set_state(key, None)
            if alert is None:
                continue
            alert.state, alert.closed_at, alert.recovered_value = "closed", now, value
            await session.flush()
            await _publish(session, alert, value, "recovered", now, period=(row.period, row.period_start))


def subject_of(indicator: str, dimension: str, segment: str) -> str:
    return f"indicator:{indicator}:{dimension}:{segment or 'all'}"


async def _publish(
    session: AsyncSession,
    alert: IndicatorAlert,
    value: float,
    state: str,
    at: datetime,
    period: tuple[str, datetime] | None = None,
) -> None:
    kind, start = period or (alert.period, alert.period_start)
    data = IndicatorThresholdCrossedV1(
        alert_id=alert.id,
        indicator=alert.indicator,
        dimension=alert.dimension,  # type: ignore[arg-type]
        segment=alert.segment or None,
        period_start=start,
        period_end=formulas.period_end(kind, start),  # type: ignore[arg-type]
        value=value,
        threshold=alert.threshold,
        direction=alert.direction,  # type: ignore[arg-type]
        state=state,  # type: ignore[arg-type]
        crossed_at=at,
    )
    subject = subject_of(alert.indicator, alert.dimension, alert.segment)
    await add_event(session, new_event(type=EVENT_TYPE, source=SOURCE, subject=subject, data=data), Topics.scores)


def _threshold_read(name: str, threshold: Threshold, version: int, record: Any | None) -> ThresholdRead:
    indicator = formulas.INDICATORS[name]
    return ThresholdRead(
        indicator=name,
        unit=indicator.unit,
        value=threshold.value,
        direction=threshold.direction,
        min_sample=threshold.min_sample,
        enabled=threshold.enabled,
        period=threshold.period,
        version=version,
        updated_by=record.created_by if record is not None else "default",
        updated_at=record.created_at if record is not None else None,
    )


async def list_thresholds(session: AsyncSession) -> ThresholdList:
    stored = await IndicatorRepository(session).thresholds()
    in_force = await thresholds_in_force(session)
    return ThresholdList(items=[_threshold_read(name, t, v, stored.get(name)) for name, (t, v) in in_force.items()])


async def set_threshold(session: AsyncSession, name: str, body: ThresholdSet, *, actor: str) -> ThresholdRead:
    """A new version of one indicator's threshold (who and when kept). It applies from the next
    event that moves the indicator; open alerts stay until that event finds the value inside."""
    indicator = _indicator(name)
    if not indicator.low <= body.value <= indicator.high:
        raise ValidationFailed(
            "value", f"a {name} threshold lies between {indicator.low:g} and {indicator.high:g}", "out_of_range"
        )
    repository = IndicatorRepository(session)
    await repository.lock_threshold(name)
    record = await repository.add_threshold(
        IndicatorThresholdVersion(
            indicator=name,
            version=await repository.latest_threshold_version(name) + 1,
            value=body.value,
            direction=body.direction,
            min_sample=body.min_sample,
            enabled=body.enabled,
            period=body.period,
            created_by=actor,
            created_at=utcnow(),
        )
    )
    threshold = Threshold(body.value, body.direction, body.min_sample, body.enabled, body.period)
    return _threshold_read(name, threshold, record.version, record)


def _indicator(name: str) -> formulas.Indicator:
    indicator = formulas.INDICATORS.get(name)
    if indicator is None:
        raise NotFound("Indicator", name)
    return indicator


# --- reads -------------------------------------------------------------------------------


def _decode_segment_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    start, segment = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(start), segment
    except ValueError as exc:
        raise ProblemError(
            400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor"
        ) from exc


async def _rows(session: AsyncSession, filters: IndicatorFilters | SeriesFilters) -> tuple[list[Row[Any]], str | None]:
    rows = await IndicatorRepository(session).counters(
        dimension=filters.dimension,
        period=filters.period,
        since=filters.since,
        until=filters.until,
        segment=(filters.segment or None) if filters.dimension != "all" else None,
        after=_decode_segment_cursor(filters.cursor),
        limit=filters.limit + 1,
    )
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return rows, (encode_cursor(rows[-1].period_start.isoformat(), rows[-1].segment) if more and rows else None)


def _segment_period(row: Row[Any]) -> dict[str, Any]:
    return {
        "dimension": row.dimension,
        "segment": row.segment if row.dimension != "all" else None,
        "period": row.period,
        "period_start": row.period_start,
        "period_end": formulas.period_end(row.period, row.period_start),
    }


async def indicator_values(session: AsyncSession, filters: IndicatorFilters) -> IndicatorPage:
    rows, next_cursor = await _rows(session, filters)
    items = []
    for row in rows:
        computed = formulas.values(row._mapping)
        items.append(
            SegmentPeriod(
                **_segment_period(row),
                indicators={
                    name: IndicatorValue(value=value, sample_size=sample, unit=formulas.INDICATORS[name].unit)
                    for name, (value, sample) in computed.items()
                },
                counters={name: row._mapping[name] for name in COUNTERS},
            )
        )
    return IndicatorPage(items=items, next_cursor=next_cursor)


async def indicator_series(session: AsyncSession, name: str, filters: SeriesFilters) -> SeriesPage:
    indicator = _indicator(name)
    rows, next_cursor = await _rows(session, filters)
    items = []
    for row in rows:
        value, sample = indicator.compute(row._mapping)
        items.append(IndicatorPoint(**_segment_period(row), value=value, sample_size=sample))
    return SeriesPage(indicator=name, unit=indicator.unit, items=items, next_cursor=next_cursor)


def _alert_read(alert: IndicatorAlert) -> AlertRead:
    read = AlertRead.model_validate(alert)
    return read.model_copy(update={"segment": alert.segment or None})


async def get_alert(session: AsyncSession, alert_id: uuid.UUID) -> AlertRead:
    alert = await IndicatorRepository(session).alert(alert_id)
    if alert is None:
        raise NotFound("Alert", alert_id)
    return _alert_read(alert)


async def list_alerts(session: AsyncSession, filters: Any) -> AlertPage:
    alerts = await IndicatorRepository(session).alerts(
        state=filters.state,
        indicator=filters.indicator,
        dimension=filters.dimension,
        segment=filters.segment,
        before=decode_time_cursor(filters.cursor),
        limit=filters.limit + 1,
    )
    more = len(alerts) > filters.limit
    alerts = alerts[: filters.limit]
    next_cursor = encode_time_cursor(alerts[-1].opened_at, alerts[-1].id) if more and alerts else None
    return AlertPage(items=[_alert_read(a) for a in alerts], next_cursor=next_cursor)
