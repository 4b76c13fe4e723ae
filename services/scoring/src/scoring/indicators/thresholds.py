"""Thresholds and alerts: the versioned thresholds an admin sets, and the check after each fold
that opens or closes an alert, announced as `crm.indicator.threshold_crossed.v1`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Topics, new_event
from crm_shared.contracts.events import (
    IndicatorThresholdCrossedV1,
)
from crm_shared.db import new_id, utcnow
from crm_shared.http.problems import NotFound, ValidationFailed
from crm_shared.messaging.outbox import add_event
from scoring.indicators import formulas
from scoring.indicators.formulas import Threshold
from scoring.indicators.models import IndicatorAlert
from scoring.indicators.repository import IndicatorRepository, SegmentThresholdRepository, ThresholdRepository
from scoring.indicators.schemas import (
    SegmentThresholdRead,
    ThresholdList,
    ThresholdRead,
    ThresholdSet,
)

# --- thresholds and alerts ---------------------------------------------------------------

SOURCE = "crm/scoring"
EVENT_TYPE = "crm.indicator.threshold_crossed.v1"


async def thresholds_in_force(session: AsyncSession) -> dict[str, tuple[Threshold, int]]:
    """Every indicator's threshold and its version (0 = the shipped default)."""
    stored = await ThresholdRepository(session).thresholds()
    result: dict[str, tuple[Threshold, int]] = {}
    for name, default in formulas.DEFAULT_THRESHOLDS.items():
        record = stored.get(name)
        result[name] = (default, 0) if record is None else (_as_threshold(record), record.version)
    return result


def _as_threshold(record: Any) -> Threshold:
    return Threshold(record.value, record.direction, record.min_sample, record.enabled, record.period)


async def segment_thresholds_in_force(session: AsyncSession) -> dict[tuple[str, str, str], tuple[Threshold, int]]:
    """The segment overrides, by (indicator, dimension, segment as stored: '' for `all`)."""
    stored = await SegmentThresholdRepository(session).overrides()
    return {key: (_as_threshold(record), record.version) for key, record in stored.items()}


InForce = tuple[dict[str, tuple[Threshold, int]], dict[tuple[str, str, str], tuple[Threshold, int]]]
# The thresholds and segment overrides in force, under the change stamp they were read with
# (crm_shared.versioning.change_stamp): read again only when an edit changed the stamp.
_IN_FORCE: dict[str, InForce] = {}


async def _in_force(session: AsyncSession, stamp: str) -> InForce:
    cached = _IN_FORCE.get(stamp)
    if cached is None:
        cached = (await thresholds_in_force(session), await segment_thresholds_in_force(session))
        _IN_FORCE.clear()  # one entry: the stamp only moves forward
        _IN_FORCE[stamp] = cached
    return cached


async def check_thresholds(
    session: AsyncSession, counters: list[Row[Any]], touched: dict[tuple[str, str, str, datetime], list[str]]
) -> None:
    """`counters` as `IndicatorRepository.add_to_counters` returns them (with the thresholds' stamp)."""
    now = utcnow()
    current: dict[str, datetime] = {p: formulas.period_start(p, now) for p in formulas.PERIODS}
    if not any(names and start == current[p] for (_, _, p, start), names in touched.items()):
        return  # nothing this event moved is checked (a past period, or only a gauge)
    defaults, overrides = await _in_force(session, counters[0].thresholds_stamp)

    def threshold_of(name: str, dimension: str, segment: str) -> tuple[Threshold, int]:
        """A segment's own threshold (key accounts held to a stricter complaint rate), else the indicator's."""
        return overrides.get((name, dimension, segment)) or defaults[name]

    candidates: dict[tuple[str, str, str], tuple[Row[Any], float, int]] = {}
    for row in counters:
        if row.period_start != current[row.period]:
            continue  # a late event for a past period: alerts are about the current one
        for name in touched.get((row.dimension, row.segment, row.period, row.period_start), []):
            threshold, _ = threshold_of(name, row.dimension, row.segment)
            if not threshold.enabled or threshold.period != row.period:
                continue
            value, sample = formulas.INDICATORS[name].compute(cast(formulas.Counters, row._mapping))
            if value is None or sample < threshold.min_sample:
                continue
            candidates[(name, row.dimension, row.segment)] = (row, value, sample)
    if not candidates:
        return
    repository = IndicatorRepository(session)
    states = await repository.lock_states(list(candidates))
    for key, (row, value, sample) in sorted(candidates.items()):
        threshold, version = threshold_of(*key)
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
            open_alert = await repository.lock_alert(state.open_alert_id)
            await repository.set_state(key, None)
            if open_alert is None:
                continue
            open_alert.state, open_alert.closed_at, open_alert.recovered_value = "closed", now, value
            await session.flush()
            await _publish(session, open_alert, value, "recovered", now, period=(row.period, row.period_start))


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
        dimension=alert.dimension,
        segment=alert.segment or None,
        period_start=start,
        period_end=formulas.period_end(kind, start),  # type: ignore[arg-type]  # alert.period: a str column holding a PeriodKind
        value=value,
        threshold=alert.threshold,
        direction=alert.direction,
        state=state,
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
    stored = await ThresholdRepository(session).thresholds()
    in_force = await thresholds_in_force(session)
    overrides = await SegmentThresholdRepository(session).overrides()
    return ThresholdList(
        items=[_threshold_read(name, t, v, stored.get(name)) for name, (t, v) in in_force.items()],
        segments=[_segment_read(record) for _, record in sorted(overrides.items())],
    )


def _segment_read(record: Any) -> SegmentThresholdRead:
    return SegmentThresholdRead(
        indicator=record.indicator,
        dimension=record.dimension,
        segment=record.segment or "all",
        value=record.value,
        direction=record.direction,
        min_sample=record.min_sample,
        enabled=record.enabled,
        period=record.period,
        version=record.version,
        updated_by=record.created_by,
        updated_at=record.created_at,
    )


def _scope(name: str, dimension: str, segment: str) -> tuple[str, str]:
    """The stored segment ('' for `all`, as the counters hold it) and the versioned series key."""
    stored = "" if dimension == "all" else segment
    if dimension == "all" and segment != "all":
        raise ValidationFailed("segment", "the `all` dimension has one segment: `all`", "unknown_segment")
    return stored, f"{name}/{dimension}/{stored}"


async def set_segment_threshold(
    session: AsyncSession, name: str, dimension: str, segment: str, body: ThresholdSet, *, actor: str
) -> SegmentThresholdRead:
    """A new version of one segment's own threshold: from the next event that moves the indicator
    in that segment, it is checked instead of the indicator's (docs/domain.md#alerts-that-reach-people)."""
    _check_value(name, body.value)
    stored, scope = _scope(name, dimension, segment)
    fields = body.model_dump(include={"value", "direction", "min_sample", "enabled", "period"})
    record = await SegmentThresholdRepository(session).add_version(
        actor, scope, indicator=name, dimension=dimension, segment=stored, removed=False, **fields
    )
    return _segment_read(record)


async def remove_segment_threshold(
    session: AsyncSession, name: str, dimension: str, segment: str, *, actor: str
) -> None:
    """The segment goes back to the indicator's threshold (the removal is a version too: who, when)."""
    known_indicator(name)
    stored, scope = _scope(name, dimension, segment)
    repository = SegmentThresholdRepository(session)
    current = await repository.current(scope)
    if current is None or current.removed:
        raise NotFound("Segment threshold", scope)
    fields = {f: getattr(current, f) for f in ("value", "direction", "min_sample", "enabled", "period")}
    await repository.add_version(
        actor, scope, indicator=name, dimension=dimension, segment=stored, removed=True, **fields
    )


def _check_value(name: str, value: float) -> None:
    indicator = known_indicator(name)
    if not indicator.low <= value <= indicator.high:
        raise ValidationFailed(
            "value", f"a {name} threshold lies between {indicator.low:g} and {indicator.high:g}", "out_of_range"
        )


async def set_threshold(session: AsyncSession, name: str, body: ThresholdSet, *, actor: str) -> ThresholdRead:
    """A new version of one indicator's threshold (who and when kept). It applies from the next
    event that moves the indicator; open alerts stay until that event finds the value inside."""
    _check_value(name, body.value)
    record = await ThresholdRepository(session).add_version(
        actor,
        name,
        value=body.value,
        direction=body.direction,
        min_sample=body.min_sample,
        enabled=body.enabled,
        period=body.period,
    )
    threshold = Threshold(body.value, body.direction, body.min_sample, body.enabled, body.period)
    return _threshold_read(name, threshold, record.version, record)


def known_indicator(name: str) -> formulas.Indicator:
    indicator = formulas.INDICATORS.get(name)
    if indicator is None:
        raise NotFound("Indicator", name)
    return indicator
