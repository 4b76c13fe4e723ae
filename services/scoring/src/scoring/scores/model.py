"""The scoring model: pure functions, no I/O (formulas documented in docs/scoring.md).

The customer's inputs are kept as decayed sums, so each event updates them in constant time
and the result does not depend on the order events arrive in:

    pressure(T) = sum_i  w_i * 2 ** (-(T - t_i) / half_life)

where T is the time of the newest event seen. Moving T forward multiplies the whole sum by one
factor; an event older than T is decayed before it is added.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from crm_shared.contracts.vocabulary import Band, FeedbackType, Severity

MODEL_VERSION = "satisfaction-v1"
HALF_LIFE_DAYS = 90.0
BASELINE = 75.0
# One complaint stands for ~20 silent customers (DOMAIN.md): it must weigh far more than a
# single data point, and more the more severe it is.
SEVERITY_WEIGHT = {Severity.low: 1.0, Severity.medium: 2.0, Severity.high: 4.0, Severity.critical: 8.0}
COMPLAINT_SCALE = 8.0  # decayed complaint weight at which 63% of the baseline is lost
PRAISE_SCALE = 4.0  # decayed praise weight at which 63% of the headroom above baseline is won
BAND_FLOORS = ((Band.healthy, 70.0), (Band.watch, 50.0), (Band.at_risk, 30.0), (Band.critical, 0.0))


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the score is computed from; stored per customer."""

    complaint_weight: float = 0.0
    praise_weight: float = 0.0
    complaints: int = 0
    praises: int = 0
    as_of: datetime | None = None


@dataclass(frozen=True, slots=True)
class Score:
    satisfaction: float
    health: float
    band: Band
    explanation: dict[str, Any]


def _decay(days: float) -> float:
    return 2.0 ** (-days / HALF_LIFE_DAYS)


def add_feedback(inputs: Inputs, kind: FeedbackType, severity: Severity, at: datetime) -> Inputs:
    """Fold one piece of feedback into the inputs (O(1), order-independent)."""
    if kind is FeedbackType.complaint:
        weight, field = SEVERITY_WEIGHT[severity], "complaint"
    elif kind is FeedbackType.praise:
        weight, field = 1.0, "praise"
    else:
        return inputs  # suggestions and inquiries carry no satisfaction signal in this model

    if inputs.as_of is None or at >= inputs.as_of:
        shift = _decay((at - inputs.as_of).total_seconds() / 86_400) if inputs.as_of else 1.0
        base = replace(
            inputs,
            complaint_weight=inputs.complaint_weight * shift,
            praise_weight=inputs.praise_weight * shift,
            as_of=at,
        )
        contribution = weight
    else:  # an older event arriving late: decay it to the current reference time
        base = inputs
        contribution = weight * _decay((inputs.as_of - at).total_seconds() / 86_400)

    if field == "complaint":
        return replace(base, complaint_weight=base.complaint_weight + contribution, complaints=base.complaints + 1)
    return replace(base, praise_weight=base.praise_weight + contribution, praises=base.praises + 1)


def combine(first: Inputs, second: Inputs) -> Inputs:
    """The inputs of two records of one customer (a merge), as if every event had been folded
    into one: both sums are decayed to the later reference time, then added."""
    if first.as_of is None or second.as_of is None:
        as_of = first.as_of or second.as_of
        first_shift = second_shift = 1.0
    else:
        as_of = max(first.as_of, second.as_of)
        first_shift = _decay((as_of - first.as_of).total_seconds() / 86_400)
        second_shift = _decay((as_of - second.as_of).total_seconds() / 86_400)
    return Inputs(
        complaint_weight=first.complaint_weight * first_shift + second.complaint_weight * second_shift,
        praise_weight=first.praise_weight * first_shift + second.praise_weight * second_shift,
        complaints=first.complaints + second.complaints,
        praises=first.praises + second.praises,
        as_of=as_of,
    )


def band_for(health: float) -> Band:
    for band, floor in BAND_FLOORS:
        if health >= floor:
            return band
    return Band.critical


def compute(inputs: Inputs) -> Score:
    penalty = BASELINE * (1.0 - math.exp(-inputs.complaint_weight / COMPLAINT_SCALE))
    bonus = (100.0 - BASELINE) * (1.0 - math.exp(-inputs.praise_weight / PRAISE_SCALE))
    satisfaction = round(min(100.0, max(0.0, BASELINE - penalty + bonus)), 1)
    health = satisfaction  # v1: health is satisfaction; loyalty, value and risk join it later
    band = band_for(health)
    explanation = {
        "model_version": MODEL_VERSION,
        "summary": (
            f"satisfaction {satisfaction} = baseline {BASELINE} - complaint penalty {penalty:.1f} "
            f"(decayed weight {inputs.complaint_weight:.2f} from {inputs.complaints} complaint(s)) "
            f"+ praise bonus {bonus:.1f} (decayed weight {inputs.praise_weight:.2f} from {inputs.praises} praise(s)); "
            f"band {band.value}"
        ),
        "components": {
            "baseline": BASELINE,
            "complaint_weight": round(inputs.complaint_weight, 4),
            "complaint_penalty": round(penalty, 2),
            "praise_weight": round(inputs.praise_weight, 4),
            "praise_bonus": round(bonus, 2),
            "complaints": inputs.complaints,
            "praises": inputs.praises,
        },
        "parameters": {
            "half_life_days": HALF_LIFE_DAYS,
            "severity_weights": {k.value: v for k, v in SEVERITY_WEIGHT.items()},
            "complaint_scale": COMPLAINT_SCALE,
            "praise_scale": PRAISE_SCALE,
            "band_floors": {band.value: floor for band, floor in BAND_FLOORS},
        },
    }
    return Score(satisfaction=satisfaction, health=health, band=band, explanation=explanation)
