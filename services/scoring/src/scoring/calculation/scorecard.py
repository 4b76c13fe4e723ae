"""The scorecard: every tunable number of the score calculation, and its validation (docs/scoring.md)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from crm_shared.contracts.vocabulary import Severity

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
            # silence against the customer's own ordering rhythm (docs/scoring.md, "Churn risk")
            "silence_points": 30.0,
            "silence_ramp": 2.0,  # rhythms of silence beyond the first at which the points are full
            "silence_min_interval_days": 14.0,
            # silence also lowers health directly: a silent customer's satisfaction is not known
            # (the satisfaction score hears only those who speak), so it cannot hold health up
            "silence_health_points": 15.0,
            # a contract about to lapse, or lapsed without a renewal or a later order
            "lapse_points": 20.0,
            "lapse_window_days": 60.0,
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
        ("churn", "silence_ramp"),
        ("churn", "lapse_window_days"),
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
