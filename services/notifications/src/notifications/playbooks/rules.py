"""What a playbook can see of an event: its facts, by event type, and the title templates
that quote them. Pure functions, no I/O (unit-tested without servers).

Facts are flat and small on purpose: a condition or a template names one, and a playbook that
names a fact its trigger event does not have is refused when it is saved (422), not silently
never matched.
"""

from __future__ import annotations

import string
from datetime import datetime
from typing import Any

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import (
    ActivityRecordedV1,
    CreditChangedV1,
    FeedbackReceivedV1,
    FeedbackStatusChangedV1,
    IndicatorThresholdCrossedV1,
    LifecycleChangedV1,
    ScoreChangedV1,
    ScoreChangedV2,
    SlaBreachedV1,
    ThemeEscalatedV1,
    TierChangedV1,
    VisitActivity,
)
from crm_shared.contracts.vocabulary import SurveyMetric

# Placeholder for a missing category in titles ("... complaint (uncategorised)").
NO_CATEGORY = "uncategorised"

# The facts of each trigger event, by name. `tier` and `owner` may come from the customer
# projection when the event does not carry them; `at` is when it happened (due times count from it).
EVENT_FACTS: dict[str, tuple[str, ...]] = {
    "crm.feedback.received.v1": (
        "type",
        "severity",
        "category",
        "channel",
        "tier",
        "owner",
        "nps",
        "survey_metric",
        "survey_score",
    ),
    "crm.feedback.status_changed.v1": (
        "type",
        "status",
        "previous_status",
        "reopened",
        "severity",
        "category",
        "tier",
        "owner",
    ),
    "crm.feedback.sla_breached.v1": ("type", "clock", "severity", "tier", "owner"),
    "crm.score.changed.v2": (
        "band_from",
        "band_to",
        "dropped",
        "health",
        "satisfaction",
        "churn_risk",
        "value",
        "credit",
        "tier",
        "owner",
    ),
    "crm.contact.lifecycle_changed.v1": ("lifecycle", "previous_lifecycle", "tier", "credit", "owner"),
    "crm.contact.credit_changed.v1": ("credit", "previous_credit", "tier", "owner"),
    # Management alerts: about a segment or a theme, not a customer (docs/domain.md#alerts-that-reach-people).
    "crm.indicator.threshold_crossed.v1": (
        "indicator",
        "dimension",
        "segment",
        "state",
        "value",
        "threshold",
        "direction",
    ),
    "crm.feedback.theme_escalated.v1": ("category", "product", "customers", "previous_customers", "complaints"),
    "crm.contact.tier_changed.v1": ("tier", "previous_tier", "source", "owner"),
    "crm.contact.activity_recorded.v1": ("kind", "findings", "tier", "owner"),
}
# An older version of a trigger event: a playbook on the new type also runs for the old one.
EVENT_ALIASES = {"crm.score.changed.v1": "crm.score.changed.v2"}
TRIGGER_EVENTS = tuple(EVENT_FACTS)
# Events whose data names the customer's tier and owner (no projection lookup needed).
CARRIES_CUSTOMER = frozenset(
    {"crm.feedback.received.v1", "crm.feedback.status_changed.v1", "crm.feedback.sla_breached.v1"}
)


# Condition subjects (`on`) whose fact the customer projection may supply when the event lacks it.
CUSTOMER_FACTS = frozenset({"tier"})


# Events about no customer: their subject is an alert or a theme, their tasks have no customer and
# their messages go to staff only.
NO_CUSTOMER = frozenset({"crm.indicator.threshold_crossed.v1", "crm.feedback.theme_escalated.v1"})


def canonical_type(event_type: str) -> str:
    return EVENT_ALIASES.get(event_type, event_type)


def _band_facts(change: ScoreChangedV1 | ScoreChangedV2) -> dict[str, Any]:
    dropped = change.band_from is not None and change.band_to.rank > change.band_from.rank
    facts = {
        "band_from": change.band_from.value if change.band_from else None,
        "band_to": change.band_to.value,
        "dropped": dropped,
        "health": change.current.health,
        "satisfaction": change.current.satisfaction,
        "churn_risk": getattr(change.current, "churn_risk", None),
        "value": getattr(change.current, "value", None),
        "credit": change.credit.value if isinstance(change, ScoreChangedV2) and change.credit else None,
        "rescore": getattr(change, "rescore_run_id", None) is not None,
        "at": change.computed_at,
    }
    return facts


# The last answer of `facts_of`: the engine and then each executor ask for the same event's facts,
# and parsing the payload again per action would be the hot path's largest Python cost.
_last: tuple[Envelope, Any, dict[str, Any]] | None = None


def facts_of(event: Envelope, customer: Any = None) -> dict[str, Any]:
    """The event's facts (do not modify them); `customer` (a projection row) fills in tier and
    owner it lacks."""
    global _last
    if _last is not None and _last[0] is event and _last[1] is customer:
        return _last[2]
    facts = _facts_of(event, customer)
    _last = (event, customer, facts)
    return facts


def _facts_of(event: Envelope, customer: Any) -> dict[str, Any]:
    payload = event.payload()
    facts: dict[str, Any]
    if isinstance(payload, FeedbackReceivedV1):
        survey = payload.survey
        facts = {
            "type": payload.type.value,
            "severity": payload.severity.value,
            "category": payload.category,
            "channel": payload.channel.value,
            "tier": payload.customer.tier.value,
            "owner": payload.customer.owner,
            "survey_metric": survey.metric.value if survey else None,
            "survey_score": survey.score if survey else None,
            "nps": survey.score if survey and survey.metric is SurveyMetric.nps else None,
            "at": payload.received_at,
        }
    elif isinstance(payload, FeedbackStatusChangedV1):
        facts = {
            "type": payload.type.value,
            "status": payload.current.value,
            "previous_status": payload.previous.value if payload.previous else None,
            "reopened": payload.reopened,
            "severity": payload.severity.value,
            "category": payload.category,
            "tier": payload.customer.tier.value,
            "owner": payload.customer.owner,
            "at": payload.changed_at,
        }
    elif isinstance(payload, SlaBreachedV1):
        facts = {
            "type": payload.type.value,
            "clock": payload.clock,
            "severity": payload.severity.value,
            "tier": payload.customer.tier.value,
            "owner": payload.customer.owner,
            "at": payload.breached_at,
        }
    elif isinstance(payload, ScoreChangedV1 | ScoreChangedV2):
        facts = _band_facts(payload)
    elif isinstance(payload, IndicatorThresholdCrossedV1):
        facts = {
            "indicator": payload.indicator,
            "dimension": payload.dimension,
            "segment": payload.segment or "all",
            "state": payload.state,
            "value": payload.value,
            "threshold": payload.threshold,
            "direction": payload.direction,
            "at": payload.crossed_at,
        }
    elif isinstance(payload, ThemeEscalatedV1):
        facts = {
            "category": payload.category,
            "product": payload.product,
            "customers": payload.customers,
            "previous_customers": payload.previous_customers,
            "complaints": payload.complaints,
            "at": payload.escalated_at,
        }
    elif isinstance(payload, LifecycleChangedV1):
        facts = {
            "lifecycle": payload.current.value,
            "previous_lifecycle": payload.previous.value if payload.previous else None,
            "credit": payload.credit.value if payload.credit else None,
            "at": payload.changed_at,
        }
        if payload.tier is not None:
            facts["tier"] = payload.tier.value
    elif isinstance(payload, TierChangedV1):
        facts = {
            "tier": payload.current.value,
            "previous_tier": payload.previous.value if payload.previous else None,
            "source": payload.source,
            "at": payload.changed_at,
        }
    elif isinstance(payload, ActivityRecordedV1):
        details = payload.details
        facts = {
            "kind": details.kind,
            "findings": bool(details.findings) if isinstance(details, VisitActivity) else False,
            "at": payload.occurred_at,
        }
    elif isinstance(payload, CreditChangedV1):
        facts = {
            "credit": payload.current.value,
            "previous_credit": payload.previous.value if payload.previous else None,
            "reason": payload.reason,
            "at": payload.changed_at,
        }
    else:
        facts = {"at": event.time}
    if customer is not None:
        facts.setdefault("tier", customer.tier)
        if facts.get("owner") is None:
            facts["owner"] = customer.owner
    return facts


def placeholders(template: str) -> list[str]:
    """The `{names}` a template uses; ValueError for anything but plain names."""
    names = []
    for _literal, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}}} must be a plain name, e.g. {{severity}}")
        names.append(name)
    return names


def _text(name: str, value: Any) -> str:
    if value is None:
        return NO_CATEGORY if name == "category" else "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def render(template: str, facts: dict[str, Any]) -> str:
    """Fills in the facts; a fact the event lacks reads `-` (templates are checked when saved)."""

    class _Facts(dict):
        def __missing__(self, key: str) -> str:
            return "-"

    return template.format_map(_Facts({k: _text(k, v) for k, v in facts.items()}))
