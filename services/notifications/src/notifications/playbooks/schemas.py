"""Playbooks: a trigger (an event type plus conditions) and the actions it runs.

Conditions and actions are discriminated unions (on `on` and on `kind`), so a bad rule is a
422 naming the field, never a rule that silently does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from crm_shared.contracts.vocabulary import (
    Band,
    CaseStatus,
    CreditStanding,
    FeedbackType,
    LifecycleStage,
    Severity,
    Tier,
)
from crm_shared.http.schemas import RequestModel
from notifications.playbooks import rules

TriggerEvent = Literal[
    "crm.feedback.received.v1",
    "crm.feedback.status_changed.v1",
    "crm.feedback.sla_breached.v1",
    "crm.score.changed.v2",
    "crm.contact.lifecycle_changed.v1",
    "crm.contact.credit_changed.v1",
    "crm.indicator.threshold_crossed.v1",
    "crm.feedback.theme_escalated.v1",
    "crm.contact.tier_changed.v1",
    "crm.contact.activity_recorded.v1",
]
assert set(get_args(TriggerEvent)) == set(rules.TRIGGER_EVENTS)

KEY_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,59}$"
_NAME = r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}"


# --- conditions -------------------------------------------------------------------------------
class _Condition(RequestModel):
    def matches(self, facts: dict[str, Any]) -> bool:
        raise NotImplementedError


class SeverityIs(_Condition):
    on: Literal["severity"]
    any_of: list[Severity] = Field(min_length=1, max_length=4)

    def matches(self, facts: dict[str, Any]) -> bool:
        return facts.get("severity") in self.any_of


class CategoryPrefix(_Condition):
    """`service.` matches `service.delivery` and `service.billing`."""

    on: Literal["category"]
    prefix: str = Field(min_length=1, max_length=100)

    def matches(self, facts: dict[str, Any]) -> bool:
        category = facts.get("category")
        return category is not None and category.startswith(self.prefix)


class FeedbackTypeIs(_Condition):
    on: Literal["type"]
    any_of: list[FeedbackType] = Field(min_length=1, max_length=len(FeedbackType))

    def matches(self, facts: dict[str, Any]) -> bool:
        return facts.get("type") in self.any_of


class TierIs(_Condition):
    """`any_of`: one of these tiers; `none_of`: not one of these (e.g. leave `bronze` alone)."""

    on: Literal["tier"]
    any_of: list[Tier] | None = Field(default=None, min_length=1, max_length=4)
    none_of: list[Tier] | None = Field(default=None, min_length=1, max_length=4)

    @model_validator(mode="after")
    def _something(self) -> TierIs:
        if self.any_of is None and self.none_of is None:
            raise ValueError("a tier condition needs `any_of` or `none_of`")
        return self

    def matches(self, facts: dict[str, Any]) -> bool:
        tier = facts.get("tier")
        return (self.any_of is None or tier in self.any_of) and (self.none_of is None or tier not in self.none_of)


class CreditIs(_Condition):
    """The customer's credit standing: `any_of` these, `none_of` these (docs/domain.md#credit-management).
    An event that does not carry the standing matches `none_of` (nothing says it is bad)."""

    on: Literal["credit"]
    any_of: list[CreditStanding] | None = Field(default=None, min_length=1, max_length=3)
    none_of: list[CreditStanding] | None = Field(default=None, min_length=1, max_length=3)

    @model_validator(mode="after")
    def _something(self) -> CreditIs:
        if self.any_of is None and self.none_of is None:
            raise ValueError("a credit condition needs `any_of` or `none_of`")
        return self

    def matches(self, facts: dict[str, Any]) -> bool:
        credit = facts.get("credit")
        return (self.any_of is None or credit in self.any_of) and (self.none_of is None or credit not in self.none_of)


class ActivityIs(_Condition):
    """A recorded activity of these kinds; `with_findings: true` only a visit with findings."""

    on: Literal["kind"]
    any_of: list[Literal["order", "contract", "visit", "call"]] = Field(min_length=1, max_length=4)
    with_findings: bool | None = Field(default=None, strict=True)

    def matches(self, facts: dict[str, Any]) -> bool:
        if facts.get("kind") not in self.any_of:
            return False
        return self.with_findings is None or bool(facts.get("findings")) is self.with_findings


class ValueRange(_Condition):
    """The customer's value score (0-100) within [min, max]: `{"on": "value", "min": 10}` leaves the
    small alone. An event without a value score (`crm.score.changed.v1`) matches: nothing says it is small."""

    on: Literal["value"]
    min: float = Field(default=0, ge=0, le=100, strict=True)
    max: float = Field(default=100, ge=0, le=100, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> ValueRange:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self

    def matches(self, facts: dict[str, Any]) -> bool:
        value = facts.get("value")
        return value is None or self.min <= value <= self.max


class BandTransition(_Condition):
    """`to`: the band it moved into; `dropped`: true for a move to a worse band (false: better or first).
    A rescore run after a scorecard change is a model change, not news about the customer, so its
    band moves match only with `include_rescores` (else one model change opens thousands of tasks)."""

    on: Literal["band"]
    to: list[Band] | None = Field(default=None, min_length=1, max_length=4)
    dropped: bool | None = Field(default=None, strict=True)
    include_rescores: bool = Field(default=False, strict=True)

    @model_validator(mode="after")
    def _something(self) -> BandTransition:
        if self.to is None and self.dropped is None:
            raise ValueError("a band condition needs `to`, `dropped` or both")
        return self

    def matches(self, facts: dict[str, Any]) -> bool:
        if facts.get("rescore") and not self.include_rescores:
            return False
        if self.to is not None and facts.get("band_to") not in self.to:
            return False
        return self.dropped is None or facts.get("dropped") is self.dropped


class NpsRange(_Condition):
    """A survey's NPS answer within [min, max] (detractors: 0-6)."""

    on: Literal["nps"]
    min: int = Field(default=0, ge=0, le=10, strict=True)
    max: int = Field(default=10, ge=0, le=10, strict=True)

    @model_validator(mode="after")
    def _ordered(self) -> NpsRange:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self

    def matches(self, facts: dict[str, Any]) -> bool:
        nps = facts.get("nps")
        return nps is not None and self.min <= nps <= self.max


class LifecycleTo(_Condition):
    on: Literal["lifecycle"]
    to: list[LifecycleStage] = Field(min_length=1, max_length=6)

    def matches(self, facts: dict[str, Any]) -> bool:
        return facts.get("lifecycle") in self.to


class CaseStatusTo(_Condition):
    on: Literal["status"]
    to: list[CaseStatus] = Field(min_length=1, max_length=5)

    def matches(self, facts: dict[str, Any]) -> bool:
        return facts.get("status") in self.to


class IndicatorIs(_Condition):
    """An indicator alert about one of these indicators (`complaint_rate_per_100`, ...)."""

    on: Literal["indicator"]
    any_of: list[str] = Field(min_length=1, max_length=20, examples=[["complaint_rate_per_100"]])

    def matches(self, facts: dict[str, Any]) -> bool:
        return facts.get("indicator") in self.any_of


class AlertStateIs(_Condition):
    """`crossed`: the indicator went outside its threshold; `recovered`: it came back (the recovery
    also closes the alert's open tasks by itself, docs/domain.md#alerts-that-reach-people)."""

    on: Literal["alert"]
    state: Literal["crossed", "recovered"]

    def matches(self, facts: dict[str, Any]) -> bool:
        return facts.get("state") == self.state


class SegmentIs(_Condition):
    """An indicator alert of one segment: `{"dimension": "tier", "any_of": ["key"]}` (`all` has the segment `all`)."""

    on: Literal["segment"]
    dimension: Literal["all", "tier", "region", "industry", "owner"]
    any_of: list[str] | None = Field(
        default=None, min_length=1, max_length=50, description="Any segment when left out."
    )

    def matches(self, facts: dict[str, Any]) -> bool:
        if facts.get("dimension") != self.dimension:
            return False
        return self.any_of is None or facts.get("segment") in self.any_of


Condition = Annotated[
    SeverityIs
    | CategoryPrefix
    | FeedbackTypeIs
    | TierIs
    | CreditIs
    | ActivityIs
    | ValueRange
    | BandTransition
    | NpsRange
    | LifecycleTo
    | CaseStatusTo
    | IndicatorIs
    | AlertStateIs
    | SegmentIs,
    Field(discriminator="on"),
]
# The fact each condition reads.
CONDITION_FACTS = {
    "severity": "severity",
    "category": "category",
    "type": "type",
    "tier": "tier",
    "credit": "credit",
    "kind": "kind",
    "value": "value",
    "band": "band_to",
    "nps": "nps",
    "lifecycle": "lifecycle",
    "status": "status",
    "indicator": "indicator",
    "alert": "state",
    "segment": "segment",
}


class Trigger(RequestModel):
    event: TriggerEvent = Field(description="`crm.score.changed.v2` also matches the older `crm.score.changed.v1`.")
    conditions: list[Condition] = Field(default_factory=list, max_length=10, description="All must hold.")

    @model_validator(mode="after")
    def _conditions_fit_the_event(self) -> Trigger:
        facts = rules.EVENT_FACTS[self.event]
        for condition in self.conditions:
            if CONDITION_FACTS[condition.on] not in facts:
                raise ValueError(f"{self.event} has no {condition.on}: it cannot be a condition of this trigger")
        return self

    def matches(self, facts: dict[str, Any]) -> bool:
        return all(condition.matches(facts) for condition in self.conditions)


# --- actions ------------------------------------------------------------------------------------
class DueInHours(RequestModel):
    hours: float = Field(gt=0, le=24 * 366, strict=True, description="Hours after the trigger event happened.")


class DueBySeverityAndTier(RequestModel):
    by_severity_and_tier: Literal[True] = Field(
        description="The service-recovery table: critical 4 h, high 24 h, medium 72 h, low 120 h, "
        "times 0.5 for key accounts and 0.75 for gold.",
    )

    @field_validator("by_severity_and_tier", mode="before")
    @classmethod
    def _only_true(cls, value: Any) -> Any:
        if value is not True:  # Literal[True] alone would take 1
            raise ValueError("must be true")
        return value


class CreateTaskAction(RequestModel):
    kind: Literal["create_task"]
    task_type: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["service_recovery"])
    title: str = Field(
        min_length=1, max_length=300, description="Template: `{placeholders}` are the trigger event's facts."
    )
    priority: Literal["low", "normal", "high", "urgent", "by_severity"] = "normal"
    due: DueInHours | DueBySeverityAndTier
    assign_to: str = Field(
        default="owner",
        pattern=rf"^(owner|team:{_NAME}|user:{_NAME}|role:(service_manager|manager|team_lead))$",
        description="`owner` (the account manager; the fallback queue without one), `team:<name>` "
        "(round-robin over its members), `user:<name>` or `role:<role>` (the staff directory's first "
        "member with that role, e.g. `role:service_manager` for management alerts).",
    )


class SendMessageAction(RequestModel):
    """To the customer."""

    kind: Literal["send_message"]
    channel: Literal["email", "sms"]
    template: str = Field(min_length=1, max_length=200)


class NotifyStaffAction(RequestModel):
    kind: Literal["notify_staff"]
    channel: Literal["email", "sms"]
    template: str = Field(min_length=1, max_length=200)
    to: str = Field(pattern=rf"^(owner|team_lead|manager|user:{_NAME})$")


class CallWebhookAction(RequestModel):
    kind: Literal["call_webhook"]
    url: HttpUrl = Field(description="Up to 2000 characters.")
    template: str | None = Field(default=None, max_length=200)

    @field_validator("url", mode="before")
    @classmethod
    def _short_enough(cls, value: Any) -> Any:
        if isinstance(value, str) and len(value) > 2000:
            raise ValueError("the URL must be at most 2000 characters")
        return value


Action = Annotated[
    CreateTaskAction | SendMessageAction | NotifyStaffAction | CallWebhookAction, Field(discriminator="kind")
]


# --- playbooks ----------------------------------------------------------------------------------
class PlaybookDefinition(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "description": "Every complaint: call the customer back, faster for severe ones and key accounts.",
                    "enabled": True,
                    "trigger": {
                        "event": "crm.feedback.received.v1",
                        "conditions": [{"on": "type", "any_of": ["complaint"]}],
                    },
                    "actions": [
                        {
                            "kind": "create_task",
                            "task_type": "service_recovery",
                            "title": "Call back about a {severity} complaint ({category})",
                            "priority": "by_severity",
                            "due": {"by_severity_and_tier": True},
                            "assign_to": "owner",
                        }
                    ],
                }
            ]
        }
    )

    description: str | None = Field(default=None, max_length=500)
    enabled: bool = Field(default=True, strict=True)
    trigger: Trigger
    actions: list[Action] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _templates_name_known_facts(self) -> PlaybookDefinition:
        known = rules.EVENT_FACTS[self.trigger.event]
        for index, action in enumerate(self.actions):
            if isinstance(action, CreateTaskAction):
                for name in rules.placeholders(action.title):
                    if name not in known:
                        raise ValueError(
                            f"actions[{index}].title: {{{name}}} is not a fact of {self.trigger.event} "
                            f"(known: {', '.join(known)})"
                        )
        return self


class PlaybookRead(BaseModel):
    key: str
    version: int = Field(description="0: the built-in default, never changed.")
    builtin: bool = Field(description="A shipped default (changed or not).")
    description: str | None
    enabled: bool
    trigger: Trigger
    actions: list[Action]
    created_by: str
    created_at: datetime | None


class PlaybookList(BaseModel):
    items: list[PlaybookRead]


class PlaybookVersionRead(BaseModel):
    key: str
    version: int
    deleted: bool
    definition: dict[str, Any] | None
    created_by: str
    created_at: datetime | None


class PlaybookHistory(BaseModel):
    items: list[PlaybookVersionRead]
