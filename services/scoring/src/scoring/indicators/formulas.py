"""The indicator system's pure logic: periods, segments, formulas, defaults and the crossing rule.

Everything here works on plain values (no database), so each formula and the alert state
machine is unit-tested directly. Counters are sums and counts per (dimension, segment, period
kind, period start); an indicator's value is computed from one counter row when it is read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

Dimension = Literal["all", "tier", "region", "industry", "owner"]
PeriodKind = Literal["day", "week", "month"]
Direction = Literal["above", "below"]

DIMENSIONS: tuple[Dimension, ...] = ("all", "tier", "region", "industry", "owner")
SEGMENTED: tuple[Dimension, ...] = ("tier", "region", "industry", "owner")
PERIODS: tuple[PeriodKind, ...] = ("day", "week", "month")
# A customer without a region (industry, owner) is counted under this segment, not dropped.
UNKNOWN = "unknown"
# The segment column of the `all` dimension (the API shows it as null).
ALL_SEGMENT = ""

ACTIVE_STAGES = frozenset({"customer", "at_risk", "won_back"})
CHURNED = "churned"
SATISFIED_CSAT = 4  # CSAT 4 and 5 count as satisfied
PROMOTER_NPS, DETRACTOR_NPS = 9, 6  # promoters 9-10, detractors 0-6

COUNTERS: tuple[str, ...] = (
    "complaints",
    "first_responses",
    "first_response_seconds",
    "resolutions",
    "resolution_seconds",
    "sla_met",
    "sla_breached",
    "csat_answers",
    "csat_sum",
    "csat_satisfied",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
    "customers_at_start",
    "customers_joined",
    "customers_churned",
    "buyers",
    "repeat_buyers",
    "orders",
    "order_value",
    "key_order_value",
    "reopens",
    "compensations_paid",
    "compensation_days",
)


def period_start(kind: PeriodKind, at: datetime) -> datetime:
    """The UTC calendar bucket holding `at`: midnight, Monday midnight, or the 1st of the month."""
    at = at.astimezone(UTC)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_end(kind: PeriodKind, start: datetime) -> datetime:
    if kind == "day":
        return start + timedelta(days=1)
    if kind == "week":
        return start + timedelta(days=7)
    return (start.replace(day=28) + timedelta(days=4)).replace(day=1)


@dataclass(frozen=True, slots=True)
class Segments:
    """Where a customer counts: its tier, region, industry and account owner at the time."""

    tier: str
    region: str
    industry: str
    owner: str

    @classmethod
    def of(cls, tier: str | None, region: str | None, industry: str | None, owner: str | None) -> Segments:
        return cls(tier or UNKNOWN, region or UNKNOWN, industry or UNKNOWN, owner or UNKNOWN)

    def keys(self) -> list[tuple[Dimension, str]]:
        return [("all", ALL_SEGMENT), *((d, getattr(self, d)) for d in SEGMENTED)]


CounterKey = tuple[str, str, str, datetime]  # dimension, segment, period kind, period start


def counter_keys(segments: Segments, at: datetime) -> list[CounterKey]:
    """Every counter row one event touches: 5 dimensions x 3 periods, in a fixed order (lock order)."""
    return sorted((d, s, p, period_start(p, at)) for d, s in segments.keys() for p in PERIODS)


# --- indicators --------------------------------------------------------------------------


Counters = Mapping[str, float]
Value = tuple[float | None, int]  # value (None: nothing to measure), sample size


def _ratio(numerator: float, denominator: float, scale: float = 100.0) -> float | None:
    return round(scale * numerator / denominator, 4) if denominator else None


def complaint_rate_per_100(c: Counters) -> Value:
    customers = int(c["customers_at_start"] + c["customers_joined"])
    return _ratio(c["complaints"], customers), customers


def first_response_hours(c: Counters) -> Value:
    n = int(c["first_responses"])
    return (round(c["first_response_seconds"] / n / 3600, 4) if n else None), n


def resolution_hours(c: Counters) -> Value:
    n = int(c["resolutions"])
    return (round(c["resolution_seconds"] / n / 3600, 4) if n else None), n


def sla_attainment(c: Counters) -> Value:
    n = int(c["sla_met"] + c["sla_breached"])
    return _ratio(c["sla_met"], n), n


def csat(c: Counters) -> Value:
    n = int(c["csat_answers"])
    return _ratio(c["csat_satisfied"], n), n


def csat_average(c: Counters) -> Value:
    n = int(c["csat_answers"])
    return _ratio(c["csat_sum"], n, 1.0), n


def nps(c: Counters) -> Value:
    n = int(c["nps_answers"])
    return _ratio(c["nps_promoters"] - c["nps_detractors"], n), n


def retention_rate(c: Counters) -> Value:
    customers = int(c["customers_at_start"] + c["customers_joined"])
    return _ratio(customers - c["customers_churned"], customers), customers


def repeat_purchase_rate(c: Counters) -> Value:
    n = int(c["buyers"])
    return _ratio(c["repeat_buyers"], n), n


def reopen_rate(c: Counters) -> Value:
    """Complaints reopened per 100 resolved in the period: the fix did not hold."""
    n = int(c["resolutions"])
    return _ratio(c["reopens"], n), n


def time_to_compensation_days(c: Counters) -> Value:
    """Mean days from the complaint to the payment of its compensation, of the payments in the
    period: slow compensation is a failed recovery (docs/domain.md#cause-remedy-compensation)."""
    n = int(c["compensations_paid"])
    return (round(c["compensation_days"] / n, 4) if n else None), n


def key_account_value_share(c: Counters) -> Value:
    n = int(c["orders"])
    return _ratio(c["key_order_value"], c["order_value"]), n


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str
    group: str
    unit: str
    inputs: frozenset[str]
    compute: Callable[[Counters], Value]
    low: float  # allowed threshold range
    high: float


def _indicator(name: str, group: str, unit: str, inputs: set[str], low: float, high: float) -> Indicator:
    return Indicator(name, group, unit, frozenset(inputs), globals()[name], low, high)


_CUSTOMERS = {"customers_at_start", "customers_joined"}
INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in (
        _indicator("first_response_hours", "service_quality", "hours", {"first_responses"}, 0, 24 * 365),
        _indicator("resolution_hours", "service_quality", "hours", {"resolutions"}, 0, 24 * 365),
        _indicator("sla_attainment", "service_quality", "percent", {"sla_met", "sla_breached"}, 0, 100),
        _indicator("reopen_rate", "service_quality", "percent", {"reopens", "resolutions"}, 0, 1e6),
        _indicator("time_to_compensation_days", "service_quality", "days", {"compensations_paid"}, 0, 3650),
        _indicator("csat", "satisfaction", "percent", {"csat_answers"}, 0, 100),
        _indicator("csat_average", "satisfaction", "score_1_5", {"csat_answers"}, 1, 5),
        _indicator("nps", "satisfaction", "nps", {"nps_answers"}, -100, 100),
        _indicator("complaint_rate_per_100", "satisfaction", "per_100_customers", {"complaints", *_CUSTOMERS}, 0, 1e6),
        _indicator("retention_rate", "retention", "percent", {"customers_churned", *_CUSTOMERS}, 0, 100),
        _indicator("repeat_purchase_rate", "retention", "percent", {"buyers", "repeat_buyers"}, 0, 100),
        _indicator("key_account_value_share", "value", "percent", {"orders"}, 0, 100),
    )
}


def values(c: Counters) -> dict[str, Value]:
    return {name: indicator.compute(c) for name, indicator in INDICATORS.items()}


def touched(deltas: Mapping[str, float]) -> list[str]:
    """The indicators whose inputs an event changed: only they are checked against thresholds."""
    changed = {k for k, v in deltas.items() if v}
    return [name for name, indicator in INDICATORS.items() if indicator.inputs & changed]


# --- thresholds and crossing -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    direction: Direction
    min_sample: int = 1
    enabled: bool = True
    period: PeriodKind = "month"


DEFAULT_THRESHOLDS: dict[str, Threshold] = {
    "first_response_hours": Threshold(24, "above", min_sample=5),
    "resolution_hours": Threshold(72, "above", min_sample=5),
    "sla_attainment": Threshold(90, "below", min_sample=10),
    # More than one complaint in ten reopened, or compensation slower than two weeks: look at it.
    "reopen_rate": Threshold(10, "above", min_sample=10),
    "time_to_compensation_days": Threshold(14, "above", min_sample=3),
    "csat": Threshold(70, "below", min_sample=10),
    # The same answers as `csat`; off by default so one bad month raises one alert, not two.
    "csat_average": Threshold(3.5, "below", min_sample=10, enabled=False),
    "nps": Threshold(0, "below", min_sample=10),
    "complaint_rate_per_100": Threshold(5, "above", min_sample=20),
    "retention_rate": Threshold(90, "below", min_sample=20),
    "repeat_purchase_rate": Threshold(20, "below", min_sample=20),
    # By tier it is 100 % for `key` and 0 % elsewhere by definition: off until scoped by a person.
    "key_account_value_share": Threshold(30, "below", min_sample=20, enabled=False),
}


def on_alert_side(value: float, threshold: Threshold) -> bool:
    return value > threshold.value if threshold.direction == "above" else value < threshold.value


Transition = Literal["crossed", "recovered"]


def crossing(is_open: bool, value: float | None, sample: int, threshold: Threshold) -> Transition | None:
    """The alert state machine of one (indicator, dimension, segment) key.

    An open alert stays open while the value stays on the alert side (no repeat); it closes
    (`recovered`) when the value is back inside. Too small a sample, or no value, decides
    nothing: the state stays as it is. A disabled threshold neither opens nor closes.
    """
    if not threshold.enabled or value is None or sample < threshold.min_sample:
        return None
    outside = on_alert_side(value, threshold)
    if outside and not is_open:
        return "crossed"
    if not outside and is_open:
        return "recovered"
    return None


# --- customers per segment ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Membership:
    segments: Segments
    stage: str

    @property
    def active(self) -> bool:
        return self.stage in ACTIVE_STAGES


@dataclass(frozen=True, slots=True)
class SegmentChange:
    """What a card change does to one segment: its customer gauge and the period counters."""

    dimension: str
    segment: str
    gauge: int  # +1 / -1 active customers now
    joined: int  # entered the segment's active customers (new, won back, moved in)
    churned: int  # left it by churning


def membership_changes(old: Membership | None, new: Membership | None) -> list[SegmentChange]:
    """How a customer's move (new card, new stage, new owner, merged away) changes each segment.

    A customer counts in a segment while active (`customer`, `at_risk`, `won_back`). Leaving by
    churning counts as churn where the customer was; leaving by moving (new owner, region...),
    by a merge or an erasure only lowers the gauge.
    """
    old_keys = dict(old.segments.keys()) if old and old.active else {}
    new_keys = dict(new.segments.keys()) if new and new.active else {}
    churn = bool(old and old.active and new is not None and new.stage == CHURNED)
    changes = []
    for dimension in DIMENSIONS:
        before, after = old_keys.get(dimension), new_keys.get(dimension)
        if before == after:
            continue
        if before is not None:
            changes.append(SegmentChange(dimension, before, -1, 0, 1 if churn else 0))
        if after is not None:
            changes.append(SegmentChange(dimension, after, +1, 1, 0))
    return changes


def order_buyer_deltas(orders_now: int) -> tuple[int, int]:
    """(buyers, repeat buyers) added when a customer's order count in a period reaches `orders_now`."""
    return (1 if orders_now == 1 else 0), (1 if orders_now == 2 else 0)


def survey_deltas(metric: str, score: int) -> dict[str, float]:
    if metric == "csat":
        return {"csat_answers": 1, "csat_sum": score, "csat_satisfied": 1 if score >= SATISFIED_CSAT else 0}
    if metric == "nps":
        return {
            "nps_answers": 1,
            "nps_promoters": 1 if score >= PROMOTER_NPS else 0,
            "nps_detractors": 1 if score <= DETRACTOR_NPS else 0,
        }
    return {}  # CES is not an indicator (yet)


# --- a complaint's clocks ----------------------------------------------------------------

_DONE = frozenset({"resolved", "closed"})


@dataclass(frozen=True, slots=True)
class ComplaintClocks:
    """What the indicators already counted of one complaint."""

    received_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    first_response_sla: str | None = None  # met | breached, once counted
    resolution_sla: str | None = None


def _clock_met(
    clocks: ComplaintClocks, done_at: str, sla: str, at: datetime, deltas: dict[str, float], name: str
) -> ComplaintClocks:
    changes: dict[str, object] = {}
    if getattr(clocks, done_at) is None:
        changes[done_at] = at
        deltas[f"{name}s"] = 1
        deltas[f"{name}_seconds"] = max(0.0, (at - clocks.received_at).total_seconds())
    if getattr(clocks, sla) is None:
        changes[sla] = "met"
        deltas["sla_met"] = deltas.get("sla_met", 0) + 1
    return replace(clocks, **changes)  # type: ignore[arg-type]  # field changes as a **dict: mypy cannot match them to fields


def status_changed(
    clocks: ComplaintClocks, previous: str | None, current: str, reopened: bool, at: datetime
) -> tuple[ComplaintClocks, dict[str, float]]:
    """First response: the first move out of `received`; resolution: the first `resolved` (or
    `closed`). A clock met with no breach counted before counts as met for the SLA; a reopened
    case starts a new resolution clock (its time to resolution stays the first one)."""
    deltas: dict[str, float] = {}
    if current != "received" and clocks.first_response_at is None:
        clocks = _clock_met(clocks, "first_response_at", "first_response_sla", at, deltas, "first_response")
    if current in _DONE:
        clocks = _clock_met(clocks, "resolved_at", "resolution_sla", at, deltas, "resolution")
    elif previous in _DONE or reopened:
        clocks = replace(clocks, resolution_sla=None)
    if reopened:
        deltas["reopens"] = 1
    return clocks, deltas


def compensation_days(received_at: datetime, paid_on: date) -> float:
    """Whole days from the complaint's (UTC) day to the payment day."""
    return float(max(0, (paid_on - received_at.astimezone(UTC).date()).days))


def sla_breached(clocks: ComplaintClocks, clock: str) -> tuple[ComplaintClocks, dict[str, float]]:
    """A breach counts once per clock (and per resolution clock of a reopened case)."""
    attribute = f"{clock}_sla"
    if getattr(clocks, attribute) is not None:
        return clocks, {}
    return replace(clocks, **{attribute: "breached"}), {"sla_breached": 1}  # type: ignore[arg-type]  # a field named at run time: mypy cannot match it
