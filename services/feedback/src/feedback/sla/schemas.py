from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.http.schemas import RequestModel
from feedback.sla.models import ClockKind

# Targets are seconds, so a test (or a demo) can run a one-second SLA; 90 days is the ceiling.
Seconds = Annotated[int, Field(ge=1, le=90 * 86_400, description="Seconds.")]
ClockStatus = Literal["running", "paused", "met", "breached"]

_HOUR = 3600


class TierTargets(RequestModel):
    model_config = ConfigDict(extra="forbid")

    key: Seconds
    gold: Seconds
    silver: Seconds
    bronze: Seconds


class SeverityTargets(RequestModel):
    model_config = ConfigDict(extra="forbid")

    critical: TierTargets
    high: TierTargets
    medium: TierTargets
    low: TierTargets


def _row(key: float, gold: float, silver: float, bronze: float) -> TierTargets:
    return TierTargets(
        key=int(key * _HOUR), gold=int(gold * _HOUR), silver=int(silver * _HOUR), bronze=int(bronze * _HOUR)
    )


class ClockTargets(RequestModel):
    """A request type's two targets by customer tier (severity is a complaint's measure only)."""

    model_config = ConfigDict(extra="forbid")

    first_response: TierTargets
    resolution: TierTargets


class TypeTargets(RequestModel):
    """Targets of the other request types, by customer tier: when the customer hears back first
    (the case leaves `received`) and when it is done (an inquiry answered, technical support
    resolved, a suggestion decided)."""

    model_config = ConfigDict(extra="forbid")

    inquiry: ClockTargets
    technical_support: ClockTargets
    suggestion: ClockTargets


# Inquiries are answered within the working day for key accounts; technical support is booked
# fast and done within days; a suggestion is acknowledged within days and decided within weeks.
DEFAULT_TYPE_TARGETS = TypeTargets(
    inquiry=ClockTargets(first_response=_row(1, 2, 4, 8), resolution=_row(8, 24, 48, 72)),
    technical_support=ClockTargets(first_response=_row(2, 4, 8, 24), resolution=_row(48, 72, 120, 168)),
    suggestion=ClockTargets(first_response=_row(24, 48, 72, 120), resolution=_row(336, 504, 672, 672)),
)


class SlaTargets(RequestModel):
    """Seconds from a complaint's arrival to its first response (the case leaves `received`) and
    to its resolution (`resolved` or `closed`), by severity and customer tier, in calendar time."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "first_response": {
                        "critical": {"key": 900, "gold": 1800, "silver": 3600, "bronze": 7200},
                        "high": {"key": 1800, "gold": 3600, "silver": 7200, "bronze": 14400},
                        "medium": {"key": 7200, "gold": 14400, "silver": 28800, "bronze": 86400},
                        "low": {"key": 14400, "gold": 28800, "silver": 86400, "bronze": 172800},
                    },
                    "resolution": {
                        "critical": {"key": 14400, "gold": 28800, "silver": 86400, "bronze": 172800},
                        "high": {"key": 28800, "gold": 86400, "silver": 172800, "bronze": 259200},
                        "medium": {"key": 86400, "gold": 172800, "silver": 259200, "bronze": 432000},
                        "low": {"key": 259200, "gold": 432000, "silver": 604800, "bronze": 864000},
                    },
                }
            ]
        },
    )

    first_response: SeverityTargets = Field(description="Complaints: by severity, then tier.")
    resolution: SeverityTargets = Field(description="Complaints: by severity, then tier.")
    by_type: TypeTargets = Field(
        default=DEFAULT_TYPE_TARGETS,
        description="Inquiries, technical support and suggestions: by type, clock and tier (left out: the "
        "built-in targets; policies stored before request types were cases get them too).",
    )

    def seconds(self, clock: str, severity: str, tier: str, type: str = "complaint") -> int:
        if type != "complaint":
            return getattr(getattr(getattr(self.by_type, type), clock), tier)
        return getattr(getattr(getattr(self, clock), severity), tier)


# The built-in policy (version 0): key accounts get the tightest targets (priority service,
# docs/domain.md#what-key-accounts-get), a critical complaint of a key account is answered within 15 minutes.
DEFAULT_TARGETS = SlaTargets(
    by_type=DEFAULT_TYPE_TARGETS,
    first_response=SeverityTargets(
        critical=_row(0.25, 0.5, 1, 2),
        high=_row(0.5, 1, 2, 4),
        medium=_row(2, 4, 8, 24),
        low=_row(4, 8, 24, 48),
    ),
    resolution=SeverityTargets(
        critical=_row(4, 8, 24, 48),
        high=_row(8, 24, 48, 72),
        medium=_row(24, 48, 72, 120),
        low=_row(72, 120, 168, 240),
    ),
)


class SlaPolicy(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    version: int = Field(description="0 for the built-in defaults, then 1, 2, ... per change.", examples=[2])
    targets: SlaTargets
    created_by: str = Field(description="Token subject that stored this version (`default` for the built-in).")
    created_at: datetime | None = Field(description="When it was stored (null for the built-in defaults).")


class SlaPause(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"reason": "waiting for the customer's delivery note"}]},
    )

    reason: str = Field(min_length=1, max_length=500, description="What the case waits for from the customer.")


class SlaClockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    clock: ClockKind
    status: ClockStatus = Field(description="`running`, `paused` (waiting on the customer), `met` or `breached`.")
    severity: str
    tier: str = Field(description="The customer's tier when the complaint arrived.")
    policy_version: int = Field(description="The SLA policy version the target came from.")
    target_seconds: float
    started_at: datetime
    due_at: datetime = Field(description="The deadline; each resume moves it later by the time paused.")
    met_at: datetime | None
    breached_at: datetime | None
    paused_at: datetime | None
    pause_reason: str | None
    paused_seconds: float = Field(description="Time spent paused so far, not counted against the target.")
    restarts: int = Field(description="Times a reopened case restarted the resolution clock.")


class SlaStatus(BaseModel):
    feedback_id: uuid.UUID
    clocks: list[SlaClockRead] = Field(description="Empty for feedback that is not a complaint.")


class CustomerClockRead(SlaClockRead):
    feedback_id: uuid.UUID


class CustomerClocks(BaseModel):
    items: list[CustomerClockRead] = Field(description="Running or paused clocks, soonest deadline first.")
