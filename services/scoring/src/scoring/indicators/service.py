"""Indicator use cases: folding events into counters, then the threshold check (thresholds.py);
reads.py answers the GETs. Never commits.

Each consumed event adds its deltas to the counters of every segment and period it belongs to
(one upsert), then checks the thresholds of the indicators it moved, in the current period
only, and opens or closes alerts. Handlers run in the consumer's transaction, once per event
id (the runner's inbox), so a redelivered event changes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope
from crm_shared.contracts.events import (
    ActivityRecordedV1,
    CompensationPaidV1,
    ContactErasedV1,
    ContactMergedV1,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    LifecycleChangedV1,
    OrderActivity,
    SlaBreachedV1,
    _CustomerCard,
)
from crm_shared.projections import get_customer
from scoring.indicators import formulas
from scoring.indicators.formulas import Membership, Segments
from scoring.indicators.models import IndicatorComplaint
from scoring.indicators.repository import IndicatorRepository
from scoring.indicators.thresholds import check_thresholds

# --- folding events into counters --------------------------------------------------------


async def _segments_of(session: AsyncSession, customer_id: uuid.UUID, tier: str | None, owner: str | None) -> Segments:
    """The customer's segments now (the shared projection), else what the event itself carried."""
    card = await IndicatorRepository(session).segments_of(customer_id)
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
    complaint: dict[str, Any] | None = None,
) -> None:
    """One upsert for every (dimension, segment, period) the event touches, then the threshold check.

    `per_key` adds deltas to given (dimension, segment) keys only (moves between segments);
    `per_period` to given period kinds only (repeat buyers). A new counter row starts with the
    segment's active customers of that moment (`customers_at_start`). A new `complaint`'s row
    (its clocks) is written by the same statement.
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
        if complaint is not None:
            await repository.add_complaint(complaint)
        return
    batch = [
        {"dimension": d, "segment": s, "period": p, "period_start": start, **row}
        for (d, s, p, start), row in sorted(rows.items())
    ]
    counters = await repository.add_to_counters(batch, complaint)
    if gauge_deltas:
        await repository.add_to_gauges(gauge_deltas)
    touched = {(d, s, p, start): formulas.touched(row) for (d, s, p, start), row in rows.items()}
    await check_thresholds(session, counters, touched)


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
    per_period: dict[str, dict[str, float]] = {}
    for period, orders in counts.items():
        buyers, repeat = formulas.order_buyer_deltas(orders)
        per_period[period] = {"buyers": buyers, "repeat_buyers": repeat}
    amount = float(order.amount)
    deltas = {"orders": 1, "order_value": amount, "key_order_value": amount if segments.tier == "key" else 0}
    await _add(session, segments, at, deltas, per_period=per_period)


async def on_feedback_received(session: AsyncSession, event: Envelope) -> None:
    feedback = event.payload()
    assert isinstance(feedback, FeedbackReceivedV1)
    if feedback.type.value != "complaint" and feedback.survey is None:
        return  # praise, an inquiry...: no counter moves, so no segment to look up
    segments = await _segments_of(session, feedback.customer_id, feedback.customer.tier.value, feedback.customer.owner)
    if feedback.type.value == "complaint":
        complaint = {
            "feedback_id": feedback.feedback_id,
            "received_at": feedback.received_at,
            "tier": segments.tier,
            "region": segments.region,
            "industry": segments.industry,
            "owner": segments.owner,
        }
        await _add(session, segments, feedback.received_at, {"complaints": 1}, complaint=complaint)
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


async def on_compensation_paid(session: AsyncSession, event: Envelope) -> None:
    """Counted in the period of the payment day, in the segments of the complaint when it came in."""
    paid = event.payload()
    assert isinstance(paid, CompensationPaidV1)
    complaint = await IndicatorRepository(session).complaint(paid.feedback_id)
    if complaint is None:
        segments = await _segments_of(session, paid.customer_id, paid.customer.tier.value, paid.customer.owner)
    else:
        segments = _complaint_segments(complaint)
    at = datetime.combine(paid.paid_on, time(), tzinfo=UTC)
    days = formulas.compensation_days(paid.received_at, paid.paid_on)
    await _add(session, segments, at, {"compensations_paid": 1, "compensation_days": days})


async def on_sla_breached(session: AsyncSession, event: Envelope) -> None:
    breach = event.payload()
    assert isinstance(breach, SlaBreachedV1)
    if breach.type.value != "complaint":
        return  # the SLA indicators measure complaint handling
    complaint = await IndicatorRepository(session).complaint(breach.feedback_id)
    if complaint is None:
        segments = await _segments_of(session, breach.customer_id, breach.customer.tier.value, breach.customer.owner)
        deltas: dict[str, float] = {"sla_breached": 1}
    else:
        clocks, deltas = formulas.sla_breached(_clocks(complaint), breach.clock)
        await _save_clocks(session, complaint, clocks)
        segments = _complaint_segments(complaint)
    await _add(session, segments, breach.breached_at, deltas)
