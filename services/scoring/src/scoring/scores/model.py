"""The scoring model: pure functions, no I/O (every formula is in docs/scoring.md).

A customer's *inputs* are raw aggregates that do not depend on the scorecard's weights: decayed
sums and counters per kind of signal, a few timestamps, the open complaint cases and the card's
tier, lifecycle and credit. Each event folds into them in constant time:

    D(T) = sum_i  x_i * 2 ** (-(T - t_i) / H)

where T is the time of the newest event seen. Moving T forward multiplies a sum by one factor;
an event older than T is decayed to T before it is added, so arrival order does not matter.

A *scorecard* (weights, half-lives, scales, thresholds; versioned through the API) turns the
inputs into the five scores at compute time, evaluated at T. So a new scorecard rescores every
customer from the stored inputs without their history. Half-lives are the one exception: a
decayed sum is kept under the half-life it was built with; a new half-life applies from the
next shift of T on (docs/scoring.md, "Changing a half-life").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any

from crm_shared.contracts.vocabulary import Band, CreditStanding, FeedbackType, LifecycleStage, Severity, SurveyMetric

SCORES = ("satisfaction", "loyalty", "value", "churn_risk", "health")
SEVERITIES = tuple(s.value for s in Severity)
DAY = 86_400.0
YEAR_DAYS = 365.25
# Open cases kept per customer (the oldest go first beyond that): bounds the row, so every
# event still costs one row read and one write.
MAX_OPEN_CASES = 50


# --------------------------------------------------------------------------------------------
# The scorecard: every tunable number. Version 1 is `Scorecard()`.
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scorecard:
    version: int = 1
    # health = sum of weight * score (retention = 100 - churn_risk); the weights sum to 1
    weights: dict[str, float] = field(
        default_factory=lambda: {"satisfaction": 0.45, "loyalty": 0.1, "value": 0.1, "retention": 0.35}
    )
    # band floors on health, best first: healthy >= 65, watch >= 48, at_risk >= 30, else critical
    bands: dict[str, float] = field(default_factory=lambda: {"healthy": 65.0, "watch": 48.0, "at_risk": 30.0})
    half_lives: dict[str, float] = field(
        default_factory=lambda: {"feedback_days": 90.0, "trend_days": 14.0, "activity_days": 180.0}
    )
    # One complaint stands for ~20 silent customers (docs/domain.md#why-a-complaint-weighs-more):
    # it weighs far more than a single data point, and more the more severe it is.
    severity_weights: dict[str, float] = field(
        default_factory=lambda: {"low": 1.0, "medium": 2.0, "high": 4.0, "critical": 8.0}
    )
    satisfaction: dict[str, float] = field(
        default_factory=lambda: {
            "baseline": 75.0,
            "complaint_scale": 8.0,  # decayed complaint weight at which 63% of the baseline is lost
            "praise_scale": 4.0,  # decayed praise at which 63% of the headroom above the baseline is won
            "reopen_weight": 2.0,  # a reopened case weighs like a medium complaint
            "fast_resolution_credit": 1.0,  # a complaint resolved fast counts like this much praise
            "fast_resolution_hours": 24.0,
            "survey_points": 15.0,  # most a survey average can add or take
            "survey_prior": 2.0,  # answers needed for half of survey_points
        }
    )
    loyalty: dict[str, float] = field(
        default_factory=lambda: {
            "tenure_points": 30.0,
            "tenure_scale_years": 2.0,
            "contract_points": 25.0,
            "contract_full_years": 2.0,  # docs/domain.md#key-account-criteria: contracts of 1-2 years+
            "renewal_points": 15.0,
            "renewal_scale": 2.0,
            "repeat_points": 20.0,
            "repeat_scale": 3.0,
            "recency_points": 10.0,
            "recency_half_life_days": 90.0,
        }
    )
    value: dict[str, float] = field(
        default_factory=lambda: {
            "monetary_points": 40.0,
            "revenue_scale": 50_000.0,
            "frequency_points": 20.0,
            "frequency_scale": 4.0,
            "recency_points": 15.0,
            "recency_half_life_days": 90.0,
            # potential by tier (the card carries no potential figure; docs/domain.md#key-account-criteria)
            "potential_key": 25.0,
            "potential_gold": 18.0,
            "potential_silver": 10.0,
            "potential_bronze": 4.0,
        }
    )
    churn: dict[str, float] = field(
        default_factory=lambda: {
            "dissatisfaction_factor": 0.5,  # points per satisfaction point below the baseline
            "trend_points": 20.0,
            "trend_scale": 4.0,
            "open_case_factor": 3.0,  # points per severity weight of each open complaint
            "breached_case_points": 10.0,
            "open_cases_cap": 30.0,
            "inactivity_points": 20.0,
            "inactivity_min_interval_days": 30.0,
            "credit_watch": 10.0,
            "credit_poor": 25.0,
            "lifecycle_at_risk": 20.0,
            "lifecycle_churned": 40.0,
            "lifecycle_won_back": 10.0,
        }
    )

    @property
    def model_version(self) -> str:
        return f"scorecard-{self.version}"

    def config(self) -> dict[str, Any]:
        """Every parameter, without the version (what `PUT /v1/scorecard` takes)."""
        out = asdict(self)
        out.pop("version")
        return out

    @classmethod
    def from_config(cls, version: int, config: dict[str, Any]) -> Scorecard:
        """A stored or submitted config; sections or keys it lacks take the defaults."""
        default = cls()
        values: dict[str, Any] = {"version": version}
        for f in fields(cls):
            if f.name == "version":
                continue
            values[f.name] = {**getattr(default, f.name), **(config.get(f.name) or {})}
        return cls(**values)


DEFAULT_SCORECARD = Scorecard()


def validate(card: Scorecard) -> list[tuple[str, str]]:
    """What is wrong with a scorecard, as (field, message); empty when it is usable."""
    problems: list[tuple[str, str]] = []
    for section in ("weights", "bands", "half_lives", "severity_weights", "satisfaction", "loyalty", "value", "churn"):
        default_keys = set(getattr(DEFAULT_SCORECARD, section))
        for key, number in getattr(card, section).items():
            if key not in default_keys:
                problems.append((f"{section}.{key}", "unknown parameter"))
            elif not isinstance(number, int | float) or isinstance(number, bool) or not math.isfinite(number):
                problems.append((f"{section}.{key}", "must be a finite number"))
            elif number < 0:
                problems.append((f"{section}.{key}", "must not be negative"))
    if problems:
        return problems
    if abs(sum(card.weights.values()) - 1.0) > 1e-6:
        problems.append(("weights", "the weights must sum to 1"))
    if not 100 >= card.bands["healthy"] > card.bands["watch"] > card.bands["at_risk"] > 0:
        problems.append(("bands", "floors must be ordered: 100 >= healthy > watch > at_risk > 0"))
    for key, days in card.half_lives.items():
        if days < 1:
            problems.append((f"half_lives.{key}", "must be at least 1 day"))
    if card.half_lives["trend_days"] > card.half_lives["feedback_days"]:
        problems.append(("half_lives.trend_days", "the trend half-life must not exceed the feedback half-life"))
    w = [card.severity_weights[s] for s in SEVERITIES]
    if not 0 < w[0] <= w[1] <= w[2] <= w[3]:
        problems.append(("severity_weights", "must be positive and ordered: low <= medium <= high <= critical"))
    if not 0 < card.satisfaction["baseline"] < 100:
        problems.append(("satisfaction.baseline", "must be between 0 and 100"))
    for section, key in (
        ("satisfaction", "complaint_scale"),
        ("satisfaction", "praise_scale"),
        ("satisfaction", "survey_prior"),
        ("loyalty", "tenure_scale_years"),
        ("loyalty", "contract_full_years"),
        ("loyalty", "renewal_scale"),
        ("loyalty", "repeat_scale"),
        ("loyalty", "recency_half_life_days"),
        ("value", "revenue_scale"),
        ("value", "frequency_scale"),
        ("value", "recency_half_life_days"),
        ("churn", "trend_scale"),
    ):
        if getattr(card, section)[key] <= 0:
            problems.append((f"{section}.{key}", "must be greater than 0"))
    for section, keys in (
        ("loyalty", ("tenure_points", "contract_points", "renewal_points", "repeat_points", "recency_points")),
        ("value", ("monetary_points", "frequency_points", "recency_points", "potential_key")),
    ):
        if sum(getattr(card, section)[k] for k in keys) > 100 + 1e-9:
            problems.append((section, f"the points of {section} must add up to at most 100"))
    return problems


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OpenCase:
    """A complaint not resolved yet: it keeps weighing on churn risk, undecayed, until it is."""

    feedback_id: str
    opened_at: datetime
    severity: str
    breached: bool = False


@dataclass(frozen=True)
class Inputs:
    """What the scores are computed from; stored per customer (JSON, `to_json` / `from_json`)."""

    as_of: datetime | None = None
    half_lives: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_SCORECARD.half_lives))
    # feedback, decayed with half_lives.feedback_days; `recent` with trend_days
    complaints: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0.0))
    recent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(SEVERITIES, 0.0))
    complaint_count: int = 0
    praise: float = 0.0
    praise_count: int = 0
    survey_sum: float = 0.0  # decayed sum of answers normalised to 0..1
    survey_weight: float = 0.0  # decayed number of answers
    survey_count: int = 0
    fast_resolutions: float = 0.0
    resolution_count: int = 0
    reopens: float = 0.0
    reopen_count: int = 0
    open_cases: tuple[OpenCase, ...] = ()
    # commercial activity, decayed with half_lives.activity_days
    revenue: float = 0.0
    orders: float = 0.0
    order_count: int = 0
    last_order_at: datetime | None = None
    activity_count: int = 0
    first_activity_at: datetime | None = None
    last_activity_at: datetime | None = None
    contract_count: int = 0
    renewal_count: int = 0
    first_contract_start: date | None = None
    contract_end: date | None = None  # the latest end seen; None with contracts = open-ended
    open_ended_contract: bool = False
    # the card
    customer_since: datetime | None = None
    tier: str | None = None
    lifecycle: str | None = None
    credit: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "open_cases":
                value = [[c.feedback_id, c.opened_at.isoformat(), c.severity, c.breached] for c in value]
            elif isinstance(value, datetime | date):
                value = value.isoformat()
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Inputs:
        if not data:
            return cls()
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for name in ("as_of", "last_order_at", "first_activity_at", "last_activity_at", "customer_since"):
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        for name in ("first_contract_start", "contract_end"):
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        values["open_cases"] = tuple(
            OpenCase(fid, datetime.fromisoformat(at), sev, bool(b)) for fid, at, sev, b in values.get("open_cases", ())
        )
        return cls(**values)


def _decay(seconds: float, half_life_days: float) -> float:
    return 2.0 ** (-seconds / (half_life_days * DAY))


def _move_to(inputs: Inputs, at: datetime, card: Scorecard) -> tuple[Inputs, float, float, float]:
    """Shift every decayed sum to the later of T and `at`; returns the shifted inputs and the
    factors that decay a contribution made at `at` to the new T (feedback, trend, activity)."""
    halves = card.half_lives
    if inputs.as_of is not None and at < inputs.as_of:
        age = (inputs.as_of - at).total_seconds()
        return (
            inputs,
            _decay(age, halves["feedback_days"]),
            _decay(age, halves["trend_days"]),
            _decay(age, halves["activity_days"]),
        )
    if inputs.as_of is None:
        return replace(inputs, as_of=at, half_lives=dict(halves)), 1.0, 1.0, 1.0
    gap = (at - inputs.as_of).total_seconds()
    f = _decay(gap, halves["feedback_days"])
    t = _decay(gap, halves["trend_days"])
    a = _decay(gap, halves["activity_days"])
    shifted = replace(
        inputs,
        as_of=at,
        half_lives=dict(halves),
        complaints={k: v * f for k, v in inputs.complaints.items()},
        recent={k: v * t for k, v in inputs.recent.items()},
        praise=inputs.praise * f,
        survey_sum=inputs.survey_sum * f,
        survey_weight=inputs.survey_weight * f,
        fast_resolutions=inputs.fast_resolutions * f,
        reopens=inputs.reopens * f,
        revenue=inputs.revenue * a,
        orders=inputs.orders * a,
    )
    return shifted, 1.0, 1.0, 1.0


def survey_fraction(metric: SurveyMetric, answer: int) -> float:
    """A survey answer on 0..1, 1 the happiest: CSAT 1-5, NPS 0-10, CES 1-7 (low effort is good)."""
    if metric is SurveyMetric.csat:
        value = (answer - 1) / 4
    elif metric is SurveyMetric.nps:
        value = answer / 10
    else:
        value = (7 - answer) / 6
    return min(1.0, max(0.0, value))


def add_feedback(
    inputs: Inputs,
    kind: FeedbackType,
    severity: Severity,
    at: datetime,
    card: Scorecard = DEFAULT_SCORECARD,
    *,
    feedback_id: str | None = None,
    survey: tuple[SurveyMetric, int] | None = None,
) -> Inputs:
    """Fold one piece of feedback into the inputs (O(1), order-independent)."""
    if kind is FeedbackType.complaint:
        base, f, t, _ = _move_to(inputs, at, card)
        sev = severity.value
        cases = base.open_cases
        if feedback_id is not None and all(c.feedback_id != feedback_id for c in cases):
            cases = (*cases, OpenCase(feedback_id, at, sev))[-MAX_OPEN_CASES:]
        return replace(
            base,
            complaints={**base.complaints, sev: base.complaints[sev] + f},
            recent={**base.recent, sev: base.recent[sev] + t},
            complaint_count=base.complaint_count + 1,
            open_cases=cases,
        )
    if kind is FeedbackType.praise:
        base, f, _, _ = _move_to(inputs, at, card)
        return replace(base, praise=base.praise + f, praise_count=base.praise_count + 1)
    if kind is FeedbackType.survey_response and survey is not None:
        base, f, _, _ = _move_to(inputs, at, card)
        return replace(
            base,
            survey_sum=base.survey_sum + f * survey_fraction(*survey),
            survey_weight=base.survey_weight + f,
            survey_count=base.survey_count + 1,
        )
    return inputs  # suggestions and inquiries carry no score signal


def resolve_case(inputs: Inputs, feedback_id: str, at: datetime, card: Scorecard = DEFAULT_SCORECARD) -> Inputs:
    """A complaint was resolved (or closed while open): it stops weighing on churn risk, and a
    fast remedy (within fast_resolution_hours, without an SLA breach) counts like praise."""
    case = next((c for c in inputs.open_cases if c.feedback_id == feedback_id), None)
    if case is None:
        return inputs  # resolved before (closing a resolved case), or opened before this model
    base, f, _, _ = _move_to(inputs, at, card)
    fast = (
        not case.breached and (at - case.opened_at).total_seconds() <= card.satisfaction["fast_resolution_hours"] * 3600
    )
    return replace(
        base,
        open_cases=tuple(c for c in base.open_cases if c.feedback_id != feedback_id),
        fast_resolutions=base.fast_resolutions + (f if fast else 0.0),
        resolution_count=base.resolution_count + 1,
    )


def reopen_case(
    inputs: Inputs, feedback_id: str, severity: Severity, at: datetime, card: Scorecard = DEFAULT_SCORECARD
) -> Inputs:
    """The remedy did not hold: a reopen weighs like `reopen_weight` of complaint, and the case is open again."""
    base, f, _, _ = _move_to(inputs, at, card)
    cases = base.open_cases
    if all(c.feedback_id != feedback_id for c in cases):
        cases = (*cases, OpenCase(feedback_id, at, severity.value))[-MAX_OPEN_CASES:]
    return replace(base, reopens=base.reopens + f, reopen_count=base.reopen_count + 1, open_cases=cases)


def breach_case(
    inputs: Inputs, feedback_id: str, severity: Severity, at: datetime, card: Scorecard = DEFAULT_SCORECARD
) -> Inputs:
    """An SLA deadline passed: the case counts as breached until it is resolved."""
    base, _, _, _ = _move_to(inputs, at, card)
    found = False
    cases = []
    for case in base.open_cases:
        if case.feedback_id == feedback_id:
            found = True
            case = replace(case, breached=True)
        cases.append(case)
    if not found:
        cases.append(OpenCase(feedback_id, at, severity.value, breached=True))
    return replace(base, open_cases=tuple(cases[-MAX_OPEN_CASES:]))


def add_order(inputs: Inputs, amount: float, at: datetime, card: Scorecard = DEFAULT_SCORECARD) -> Inputs:
    base, _, _, a = _move_to(inputs, at, card)
    base = _touch(base, at)
    return replace(
        base,
        revenue=base.revenue + a * amount,
        orders=base.orders + a,
        order_count=base.order_count + 1,
        last_order_at=max(filter(None, (base.last_order_at, at))),
    )


def add_contract(
    inputs: Inputs,
    starts_on: date,
    ends_on: date | None,
    renewal: bool,
    at: datetime,
    card: Scorecard = DEFAULT_SCORECARD,
) -> Inputs:
    """Contract continuity: the first start, the latest end (or open-ended) and renewals."""
    base, _, _, _ = _move_to(inputs, at, card)
    base = _touch(base, at)
    return replace(
        base,
        contract_count=base.contract_count + 1,
        renewal_count=base.renewal_count + (1 if renewal else 0),
        first_contract_start=min(filter(None, (base.first_contract_start, starts_on))),
        contract_end=max(filter(None, (base.contract_end, ends_on))) if ends_on or base.contract_end else None,
        open_ended_contract=base.open_ended_contract or ends_on is None,
    )


def add_contact(inputs: Inputs, at: datetime, card: Scorecard = DEFAULT_SCORECARD) -> Inputs:
    """A visit or a call: activity (recency, falling activity), no revenue."""
    base, _, _, _ = _move_to(inputs, at, card)
    return _touch(base, at)


def _touch(inputs: Inputs, at: datetime) -> Inputs:
    return replace(
        inputs,
        activity_count=inputs.activity_count + 1,
        first_activity_at=min(filter(None, (inputs.first_activity_at, at))),
        last_activity_at=max(filter(None, (inputs.last_activity_at, at))),
    )


def set_profile(
    inputs: Inputs,
    *,
    tier: str | None = None,
    lifecycle: str | None = None,
    credit: str | None = None,
    customer_since: datetime | None = None,
    at: datetime | None = None,
    card: Scorecard = DEFAULT_SCORECARD,
) -> Inputs:
    """The card's tier, lifecycle stage and credit standing as they are now (state, not history)."""
    base = _move_to(inputs, at, card)[0] if at is not None else inputs
    since = min(filter(None, (base.customer_since, customer_since)), default=None)
    return replace(
        base,
        tier=tier or base.tier,
        lifecycle=lifecycle or base.lifecycle,
        credit=credit or base.credit,
        customer_since=since,
    )


def combine(first: Inputs, second: Inputs, card: Scorecard = DEFAULT_SCORECARD) -> Inputs:
    """The inputs of two records of one customer (a merge), as if every event had been folded
    into one: both are decayed to the later reference time, then added; the card is the first's."""
    if first.as_of is None and second.as_of is None:
        a, b = first, second
    else:
        as_of = max(filter(None, (first.as_of, second.as_of)))
        a = _move_to(first, as_of, card)[0] if first.as_of is not None else first
        b = _move_to(second, as_of, card)[0] if second.as_of is not None else second
        a, b = replace(a, as_of=as_of), replace(b, as_of=as_of)

    def lo(x: Any, y: Any) -> Any:
        return min(filter(None, (x, y)), default=None)

    def hi(x: Any, y: Any) -> Any:
        return max(filter(None, (x, y)), default=None)

    seen = {c.feedback_id for c in a.open_cases}
    return replace(
        a,
        complaints={k: a.complaints[k] + b.complaints[k] for k in SEVERITIES},
        recent={k: a.recent[k] + b.recent[k] for k in SEVERITIES},
        complaint_count=a.complaint_count + b.complaint_count,
        praise=a.praise + b.praise,
        praise_count=a.praise_count + b.praise_count,
        survey_sum=a.survey_sum + b.survey_sum,
        survey_weight=a.survey_weight + b.survey_weight,
        survey_count=a.survey_count + b.survey_count,
        fast_resolutions=a.fast_resolutions + b.fast_resolutions,
        resolution_count=a.resolution_count + b.resolution_count,
        reopens=a.reopens + b.reopens,
        reopen_count=a.reopen_count + b.reopen_count,
        open_cases=(*a.open_cases, *(c for c in b.open_cases if c.feedback_id not in seen))[-MAX_OPEN_CASES:],
        revenue=a.revenue + b.revenue,
        orders=a.orders + b.orders,
        order_count=a.order_count + b.order_count,
        last_order_at=hi(a.last_order_at, b.last_order_at),
        activity_count=a.activity_count + b.activity_count,
        first_activity_at=lo(a.first_activity_at, b.first_activity_at),
        last_activity_at=hi(a.last_activity_at, b.last_activity_at),
        contract_count=a.contract_count + b.contract_count,
        renewal_count=a.renewal_count + b.renewal_count,
        first_contract_start=lo(a.first_contract_start, b.first_contract_start),
        contract_end=hi(a.contract_end, b.contract_end),
        open_ended_contract=a.open_ended_contract or b.open_ended_contract,
        customer_since=lo(a.customer_since, b.customer_since),
        tier=a.tier or b.tier,
        lifecycle=a.lifecycle or b.lifecycle,
        credit=a.credit or b.credit,
    )


# --------------------------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Score:
    satisfaction: float
    loyalty: float
    value: float
    churn_risk: float
    health: float
    band: Band
    explanation: dict[str, Any]

    def values(self) -> dict[str, float | str]:
        return {
            "satisfaction": self.satisfaction,
            "loyalty": self.loyalty,
            "value": self.value,
            "churn_risk": self.churn_risk,
            "health": self.health,
            "band": self.band.value,
        }


def _clamp(x: float) -> float:
    return min(100.0, max(0.0, x))


def _saturate(x: float, scale: float) -> float:
    """1 - e^(-x/scale): 0 at 0, 63% at `scale`, approaching 1."""
    return 1.0 - math.exp(-max(0.0, x) / scale)


def _days(later: datetime | None, earlier: datetime | date | None) -> float | None:
    if later is None or earlier is None:
        return None
    if isinstance(earlier, datetime):
        return max(0.0, (later - earlier).total_seconds() / DAY)
    return max(0.0, (later.date() - earlier).days)


def band_for(health: float, card: Scorecard = DEFAULT_SCORECARD) -> Band:
    for band in (Band.healthy, Band.watch, Band.at_risk):
        if health >= card.bands[band.value]:
            return band
    return Band.critical


def compute(inputs: Inputs, card: Scorecard = DEFAULT_SCORECARD) -> Score:
    """The five scores at T (the inputs' reference time), each with its components."""
    T = inputs.as_of
    s, lo, va, ch = card.satisfaction, card.loyalty, card.value, card.churn

    # satisfaction
    weight = sum(card.severity_weights[k] * inputs.complaints[k] for k in SEVERITIES)
    complaint_weight = weight + s["reopen_weight"] * inputs.reopens
    praise_weight = inputs.praise + s["fast_resolution_credit"] * inputs.fast_resolutions
    baseline = s["baseline"]
    penalty = baseline * _saturate(complaint_weight, s["complaint_scale"])
    bonus = (100.0 - baseline) * _saturate(praise_weight, s["praise_scale"])
    survey_mean = inputs.survey_sum / inputs.survey_weight if inputs.survey_weight > 0 else 0.5
    survey_share = inputs.survey_weight / (inputs.survey_weight + s["survey_prior"])
    survey = s["survey_points"] * survey_share * (2.0 * survey_mean - 1.0)
    satisfaction = round(_clamp(baseline - penalty + bonus + survey), 1)
    sat_parts = {
        "baseline": baseline,
        "complaint_penalty": -penalty,
        "praise_bonus": bonus,
        "survey": survey,
    }

    # loyalty
    since = min(filter(None, (inputs.customer_since, inputs.first_activity_at)), default=None)
    tenure_years = (_days(T, since) or 0.0) / YEAR_DAYS
    contract_years = 0.0
    contract_current = False
    if inputs.first_contract_start is not None and T is not None:
        end = T.date() if inputs.open_ended_contract or inputs.contract_end is None else inputs.contract_end
        contract_current = inputs.open_ended_contract or (inputs.contract_end is not None and end >= T.date())
        contract_years = max(0.0, (min(end, T.date()) - inputs.first_contract_start).days) / YEAR_DAYS
    since_activity = _days(T, inputs.last_activity_at)
    loyalty_parts = {
        "tenure": lo["tenure_points"] * _saturate(tenure_years, lo["tenure_scale_years"]),
        "contract_continuity": lo["contract_points"]
        * min(1.0, contract_years / lo["contract_full_years"])
        * (1.0 if contract_current else 0.5),
        "renewals": lo["renewal_points"] * _saturate(inputs.renewal_count, lo["renewal_scale"]),
        "repeat_purchases": lo["repeat_points"] * _saturate(inputs.order_count - 1, lo["repeat_scale"]),
        "recency": lo["recency_points"] * _decay(since_activity * DAY, lo["recency_half_life_days"])
        if since_activity is not None
        else 0.0,
    }
    loyalty = round(_clamp(sum(loyalty_parts.values())), 1)

    # value
    since_order = _days(T, inputs.last_order_at)
    value_parts = {
        "monetary": va["monetary_points"] * _saturate(inputs.revenue, va["revenue_scale"]),
        "frequency": va["frequency_points"] * _saturate(inputs.orders, va["frequency_scale"]),
        "recency": va["recency_points"] * _decay(since_order * DAY, va["recency_half_life_days"])
        if since_order is not None
        else 0.0,
        "potential": va.get(f"potential_{inputs.tier}", 0.0) if inputs.tier else 0.0,
    }
    value = round(_clamp(sum(value_parts.values())), 1)

    # churn risk
    recent_weight = sum(card.severity_weights[k] * inputs.recent[k] for k in SEVERITIES)
    open_points = sum(
        ch["open_case_factor"] * card.severity_weights.get(c.severity, 1.0)
        + (ch["breached_case_points"] if c.breached else 0.0)
        for c in inputs.open_cases
    )
    inactivity = 0.0
    if inputs.activity_count >= 2 and since_activity is not None:
        span = _days(inputs.last_activity_at, inputs.first_activity_at) or 0.0
        interval = max(ch["inactivity_min_interval_days"], span / (inputs.activity_count - 1))
        inactivity = ch["inactivity_points"] * min(1.0, max(0.0, (since_activity / interval - 1.0) / 3.0))
    churn_parts = {
        "dissatisfaction": ch["dissatisfaction_factor"] * max(0.0, baseline - satisfaction),
        "complaint_trend": ch["trend_points"] * _saturate(recent_weight, ch["trend_scale"]),
        "open_complaints": min(ch["open_cases_cap"], open_points),
        "falling_activity": inactivity,
        "credit": {CreditStanding.watch.value: ch["credit_watch"], CreditStanding.poor.value: ch["credit_poor"]}.get(
            inputs.credit or "", 0.0
        ),
        "lifecycle": {
            LifecycleStage.at_risk.value: ch["lifecycle_at_risk"],
            LifecycleStage.churned.value: ch["lifecycle_churned"],
            LifecycleStage.won_back.value: ch["lifecycle_won_back"],
        }.get(inputs.lifecycle or "", 0.0),
    }
    churn_risk = round(_clamp(sum(churn_parts.values())), 1)

    # health
    w = card.weights
    health_parts = {
        "satisfaction": w["satisfaction"] * satisfaction,
        "loyalty": w["loyalty"] * loyalty,
        "value": w["value"] * value,
        "retention": w["retention"] * (100.0 - churn_risk),
    }
    health = round(_clamp(sum(health_parts.values())), 1)
    band = band_for(health, card)

    def rounded(parts: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 2) for k, v in parts.items()}

    explanation = {
        "model_version": card.model_version,
        "as_of": T.isoformat() if T else None,
        "summary": (
            f"health {health} ({band.value}) = {w['satisfaction']} x satisfaction {satisfaction} "
            f"+ {w['loyalty']} x loyalty {loyalty} + {w['value']} x value {value} "
            f"+ {w['retention']} x (100 - churn risk {churn_risk}); "
            f"satisfaction {satisfaction} = baseline {baseline} - complaint penalty {penalty:.1f} "
            f"(decayed weight {complaint_weight:.2f} from {inputs.complaint_count} complaint(s)) "
            f"+ praise bonus {bonus:.1f} (decayed weight {praise_weight:.2f} from {inputs.praise_count} praise(s)) "
            f"{'+' if survey >= 0 else '-'} survey {abs(survey):.1f} ({inputs.survey_count} answer(s))"
        ),
        "scores": {
            "satisfaction": {"score": satisfaction, "components": rounded(sat_parts)},
            "loyalty": {"score": loyalty, "components": rounded(loyalty_parts)},
            "value": {"score": value, "components": rounded(value_parts)},
            "churn_risk": {"score": churn_risk, "components": rounded(churn_parts)},
            "health": {"score": health, "components": rounded(health_parts)},
        },
        # the flat figures the first model exposed, kept for readers of `components`
        "components": {
            "baseline": baseline,
            "complaint_weight": round(complaint_weight, 4),
            "complaint_penalty": round(penalty, 2),
            "praise_weight": round(praise_weight, 4),
            "praise_bonus": round(bonus, 2),
            "survey_points": round(survey, 2),
            "complaints": inputs.complaint_count,
            "praises": inputs.praise_count,
            "survey_answers": inputs.survey_count,
            "open_complaints": len(inputs.open_cases),
            "breached_complaints": sum(1 for c in inputs.open_cases if c.breached),
            "orders": inputs.order_count,
            "contracts": inputs.contract_count,
            "renewals": inputs.renewal_count,
        },
    }
    return Score(satisfaction, loyalty, value, churn_risk, health, band, explanation)


def changed_scores(previous: dict[str, Any] | None, current: Score) -> list[str]:
    """Names of the scores (and `band`) whose rounded values differ; all of them for a first score."""
    now = current.values()
    if previous is None:
        return [*SCORES, "band"]
    return [name for name in (*SCORES, "band") if previous.get(name) != now[name]]


def describe_deltas(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """Per score and component, what moved between two explanations, in numbers and in words."""
    out: list[dict[str, Any]] = []
    for name in SCORES:
        new = (after.get("scores") or {}).get(name)
        if new is None:
            continue
        old = ((before or {}).get("scores") or {}).get(name) or {"score": None, "components": {}}
        for component, value in new["components"].items():
            was = old["components"].get(component, 0.0)
            delta = round(value - was, 2)
            if abs(delta) >= 0.05:
                direction = "rose" if delta > 0 else "fell"
                out.append(
                    {
                        "score": name,
                        "component": component,
                        "before": was,
                        "after": value,
                        "delta": delta,
                        "text": f"{name}: {component.replace('_', ' ')} {direction} by {abs(delta):.1f} "
                        f"({was:.1f} -> {value:.1f})",
                    }
                )
    return out
