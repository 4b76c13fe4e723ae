"""The five scores and the band, computed from the inputs with a scorecard at the inputs' time."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from crm_shared.contracts.vocabulary import Band, CreditStanding, LifecycleStage
from scoring.calculation.inputs import Inputs, decay
from scoring.calculation.scorecard import DAY, DEFAULT_SCORECARD, SCORES, SEVERITIES, YEAR_DAYS, Scorecard


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


def compute(inputs: Inputs, card: Scorecard = DEFAULT_SCORECARD, *, explain: bool = True) -> Score:
    """The five scores at T (the inputs' reference time), each with its components; with
    `explain=False` the explanation is left empty (the daily run's first look at every customer)."""
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
        "recency": lo["recency_points"] * decay(since_activity * DAY, lo["recency_half_life_days"])
        if since_activity is not None
        else 0.0,
    }
    loyalty = round(_clamp(sum(loyalty_parts.values())), 1)

    # value
    since_order = _days(T, inputs.last_order_at)
    value_parts = {
        "monetary": va["monetary_points"] * _saturate(inputs.revenue, va["revenue_scale"]),
        "frequency": va["frequency_points"] * _saturate(inputs.orders, va["frequency_scale"]),
        "recency": va["recency_points"] * decay(since_order * DAY, va["recency_half_life_days"])
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
    drift: list[str] = []  # the time-driven parts in words (docs/scoring.md, "Time-aware scoring")
    if inputs.activity_count >= 2 and since_activity is not None:
        span = _days(inputs.last_activity_at, inputs.first_activity_at) or 0.0
        interval = max(ch["inactivity_min_interval_days"], span / (inputs.activity_count - 1))
        inactivity = ch["inactivity_points"] * min(1.0, max(0.0, (since_activity / interval - 1.0) / 3.0))
        if inactivity >= 0.05:
            drift.append(
                f"no activity for {since_activity:.0f} days against a usual interval of {interval:.0f} days "
                f"(+{inactivity:.1f} churn risk)"
            )
    silence = _order_silence(inputs, since_order, ch, drift)
    lapse = _contract_lapse(inputs, T, ch, drift)
    churn_parts = {
        "dissatisfaction": ch["dissatisfaction_factor"] * max(0.0, baseline - satisfaction),
        "complaint_trend": ch["trend_points"] * _saturate(recent_weight, ch["trend_scale"]),
        "open_complaints": min(ch["open_cases_cap"], open_points),
        "falling_activity": inactivity,
        "order_silence": silence,
        "contract_lapse": lapse,
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
        "silence": -ch["silence_health_points"] * silence / ch["silence_points"] if ch["silence_points"] > 0 else 0.0,
    }
    health = round(_clamp(sum(health_parts.values())), 1)
    silence_text = f" - silence {-health_parts['silence']:.1f}" if health_parts["silence"] else ""
    band = band_for(health, card)
    if not explain:
        return Score(satisfaction, loyalty, value, churn_risk, health, band, {})

    def rounded(parts: dict[str, float]) -> dict[str, float]:
        return {k: round(v, 2) for k, v in parts.items()}

    explanation = {
        "model_version": card.model_version,
        "as_of": T.isoformat() if T else None,
        "summary": (
            f"health {health} ({band.value}) = {w['satisfaction']} x satisfaction {satisfaction} "
            f"+ {w['loyalty']} x loyalty {loyalty} + {w['value']} x value {value} "
            f"+ {w['retention']} x (100 - churn risk {churn_risk})"
            f"{silence_text}; "
            f"satisfaction {satisfaction} = baseline {baseline} - complaint penalty {penalty:.1f} "
            f"(decayed weight {complaint_weight:.2f} from {inputs.complaint_count} complaint(s)) "
            f"+ praise bonus {bonus:.1f} (decayed weight {praise_weight:.2f} from {inputs.praise_count} praise(s)) "
            f"{'+' if survey >= 0 else '-'} survey {abs(survey):.1f} ({inputs.survey_count} answer(s))"
            + "".join(f"; {reason}" for reason in drift)
        ),
        "drift": drift,
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


def _order_silence(inputs: Inputs, since_order: float | None, ch: dict[str, float], drift: list[str]) -> float:
    """Silence measured against the customer's own ordering rhythm: nothing while the gap since
    the last order is within one usual interval, full points `silence_ramp` intervals later."""
    if inputs.order_count < 2 or inputs.first_order_at is None or since_order is None:
        return 0.0
    span = _days(inputs.last_order_at, inputs.first_order_at) or 0.0
    rhythm = max(ch["silence_min_interval_days"], span / (inputs.order_count - 1))
    points = ch["silence_points"] * min(1.0, max(0.0, (since_order / rhythm - 1.0) / ch["silence_ramp"]))
    if points >= 0.05:
        drift.append(
            f"no order for {since_order:.0f} days, {since_order / rhythm:.1f} times the usual "
            f"{rhythm:.0f}-day ordering rhythm (+{points:.1f} churn risk)"
        )
    return points


def _contract_lapse(inputs: Inputs, T: datetime | None, ch: dict[str, float], drift: list[str]) -> float:
    """A contract about to end (rising over `lapse_window_days`) or ended without a renewal; a
    customer who ordered after the end still buys, so a lapse alone is no longer a risk."""
    if T is None or not inputs.contract_count or inputs.open_ended_contract or inputs.contract_end is None:
        return 0.0
    end = inputs.contract_end
    days_left = (end - T.date()).days
    if days_left < 0:
        if inputs.last_order_at is not None and inputs.last_order_at.date() > end:
            return 0.0
        drift.append(
            f"the contract lapsed on {end.isoformat()} without a renewal (+{ch['lapse_points']:.1f} churn risk)"
        )
        return ch["lapse_points"]
    window = ch["lapse_window_days"]
    if days_left > window:
        return 0.0
    points = ch["lapse_points"] * (1.0 - days_left / window)
    if points >= 0.05:
        drift.append(
            f"the contract ends on {end.isoformat()}, in {days_left} days, with no renewal yet "
            f"(+{points:.1f} churn risk)"
        )
    return points


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
