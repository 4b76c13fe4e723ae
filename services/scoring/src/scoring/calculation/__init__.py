"""The score calculation: pure functions, no I/O (every formula is in docs/scoring.md).

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

The package splits it by job: `scorecard` (the tunable numbers and their validation), `inputs`
(folding each event in), `compute` (inputs and scorecard to scores). Callers use the names
re-exported here (`from scoring import calculation`).
"""

from scoring.calculation.compute import Score, band_for, changed_scores, compute, describe_deltas
from scoring.calculation.inputs import (
    Inputs,
    OpenCase,
    add_contact,
    add_contract,
    add_feedback,
    add_order,
    add_visit_findings,
    advance,
    breach_case,
    combine,
    current_shape,
    reopen_case,
    resolve_case,
    set_profile,
    survey_fraction,
)
from scoring.calculation.scorecard import (
    DAY,
    DEFAULT_SCORECARD,
    MAX_OPEN_CASES,
    SCORES,
    SEVERITIES,
    YEAR_DAYS,
    Scorecard,
    validate,
)

__all__ = [
    "DAY",
    "DEFAULT_SCORECARD",
    "MAX_OPEN_CASES",
    "SCORES",
    "SEVERITIES",
    "YEAR_DAYS",
    "Inputs",
    "OpenCase",
    "Score",
    "Scorecard",
    "add_contact",
    "add_contract",
    "add_feedback",
    "add_order",
    "add_visit_findings",
    "advance",
    "band_for",
    "breach_case",
    "changed_scores",
    "combine",
    "compute",
    "current_shape",
    "describe_deltas",
    "reopen_case",
    "resolve_case",
    "set_profile",
    "survey_fraction",
    "validate",
]
