"""A customer's inputs: the decayed sums and counters each event folds into in constant time."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any

from crm_shared.contracts.vocabulary import FeedbackType, Severity, SurveyMetric
from scoring.calculation.scorecard import DAY, DEFAULT_SCORECARD, MAX_OPEN_CASES, SEVERITIES, Scorecard


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
    first_order_at: datetime | None = None  # with last_order_at and order_count: the ordering rhythm
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
        out = {name: getattr(self, name) for name in _FIELDS}
        for name in _TIMES:
            value = out[name]
            if value is not None:
                out[name] = value.isoformat()
        out["open_cases"] = [[c.feedback_id, c.opened_at.isoformat(), c.severity, c.breached] for c in self.open_cases]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Inputs:
        if not data:
            return cls()
        values = {k: v for k, v in data.items() if k in _KNOWN}
        for name in _DATETIMES:
            if values.get(name):
                values[name] = datetime.fromisoformat(values[name])
        for name in _DATES:
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        values["open_cases"] = tuple(
            OpenCase(fid, datetime.fromisoformat(at), sev, bool(b)) for fid, at, sev, b in values.get("open_cases", ())
        )
        return cls(**values)


# The stored form's field names, by kind, read once (`dataclasses.fields` per row cost more than
# the conversion itself in a rescore).
_FIELDS = tuple(f.name for f in fields(Inputs))
_KNOWN = frozenset(_FIELDS)
_DATETIMES = ("as_of", "first_order_at", "last_order_at", "first_activity_at", "last_activity_at", "customer_since")
_DATES = ("first_contract_start", "contract_end")
_TIMES = (*_DATETIMES, *_DATES)


def current_shape(data: dict[str, Any] | None) -> bool:
    """Whether stored inputs hold exactly the fields `Inputs` has now (`to_json` of what
    `from_json` reads from them gives them back)."""
    return data is not None and data.keys() == _KNOWN


def decay(seconds: float, half_life_days: float) -> float:
    return 2.0 ** (-seconds / (half_life_days * DAY))


def _move_to(inputs: Inputs, at: datetime, card: Scorecard) -> tuple[Inputs, float, float, float]:
    """Shift every decayed sum to the later of T and `at`; returns the shifted inputs and the
    factors that decay a contribution made at `at` to the new T (feedback, trend, activity)."""
    halves = card.half_lives
    if inputs.as_of is not None and at < inputs.as_of:
        age = (inputs.as_of - at).total_seconds()
        return (
            inputs,
            decay(age, halves["feedback_days"]),
            decay(age, halves["trend_days"]),
            decay(age, halves["activity_days"]),
        )
    if inputs.as_of is None:
        return replace(inputs, as_of=at, half_lives=dict(halves)), 1.0, 1.0, 1.0
    gap = (at - inputs.as_of).total_seconds()
    f = decay(gap, halves["feedback_days"])
    t = decay(gap, halves["trend_days"])
    a = decay(gap, halves["activity_days"])
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


def advance(inputs: Inputs, at: datetime, card: Scorecard = DEFAULT_SCORECARD) -> Inputs:
    """The inputs as of `at` with no new event (the daily run): every decayed sum fades to `at`,
    and silence and contract ends are then measured against `at`. A time before T changes nothing."""
    if inputs.as_of is None or at <= inputs.as_of:
        return inputs
    return _move_to(inputs, at, card)[0]


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
        first_order_at=min(filter(None, (base.first_order_at, at))),
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


def add_visit_findings(inputs: Inputs, ratings: list[int], at: datetime, card: Scorecard = DEFAULT_SCORECARD) -> Inputs:
    """A visit with findings (ratings 1-5 on quality, service, sales policy, staff): activity, and
    their mean counts like one survey answer on the CSAT scale, `(mean - 1) / 4` on 0..1."""
    base, f, _, _ = _move_to(inputs, at, card)
    base = _touch(base, at)
    if not ratings:
        return base
    fraction = min(1.0, max(0.0, (sum(ratings) / len(ratings) - 1.0) / 4.0))
    return replace(
        base,
        survey_sum=base.survey_sum + f * fraction,
        survey_weight=base.survey_weight + f,
        survey_count=base.survey_count + 1,
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
        first_order_at=lo(a.first_order_at, b.first_order_at),
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
