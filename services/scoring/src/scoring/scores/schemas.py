from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Query
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    create_model,
)

from crm_shared.contracts.vocabulary import Band
from crm_shared.http.query import IsoDateTime
from crm_shared.http.schemas import RequestModel
from scoring.calculation import DEFAULT_SCORECARD


class Cause(BaseModel):
    id: uuid.UUID
    type: str
    at: datetime


class ScoreRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "6f1c8a50-3f7e-4f4f-9a53-0d3c1c7f2b10",
                    "satisfaction": 45.5,
                    "loyalty": 0.0,
                    "value": 18.0,
                    "churn_risk": 39.4,
                    "health": 43.5,
                    "band": "at_risk",
                    "scorecard_version": 1,
                    "model_version": "scorecard-1",
                    "updated_at": "2026-11-22T10:15:02.123Z",
                    "last_event_id": "0b8e5a8e-5d55-4c1a-8a43-7d2e8f0f4a11",
                    "recent_causes": [
                        {
                            "id": "0b8e5a8e-5d55-4c1a-8a43-7d2e8f0f4a11",
                            "type": "crm.feedback.received.v1",
                            "at": "2026-11-22T10:15:02.120Z",
                        }
                    ],
                    "explanation": {"summary": "health 43.5 (at_risk) = 0.45 x satisfaction 45.5 + ..."},
                }
            ]
        },
    )

    customer_id: uuid.UUID
    satisfaction: float = Field(ge=0, le=100)
    loyalty: float = Field(ge=0, le=100)
    value: float = Field(ge=0, le=100)
    churn_risk: float = Field(ge=0, le=100, description="Higher is worse.")
    health: float = Field(ge=0, le=100)
    band: Band
    scorecard_version: int
    model_version: str
    updated_at: datetime = Field(description="When a score last changed.")
    last_event_id: uuid.UUID | None = Field(description="The last event folded into the inputs.")
    recent_causes: list[Cause] = Field(description="The last events (or runs) that moved a score, newest first.")
    explanation: dict[str, Any] = Field(description="Every score with its components (docs/scoring.md).")


class ScoreHistoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID
    satisfaction: float
    loyalty: float | None
    value: float | None
    churn_risk: float | None
    health: float
    band: Band
    previous_satisfaction: float | None
    previous_loyalty: float | None
    previous_value: float | None
    previous_churn_risk: float | None
    previous_health: float | None
    previous_band: Band | None
    changed: list[str]
    cause_event_id: uuid.UUID
    cause_event_type: str
    rescore_run_id: uuid.UUID | None
    scorecard_version: int | None
    model_version: str
    explanation: dict[str, Any]
    computed_at: datetime


class ScoreHistoryPage(BaseModel):
    items: list[ScoreHistoryRead]
    next_cursor: str | None


@dataclass
class HistoryFilters:
    """The filters of GET /v1/scores/{customer_id}/history."""

    since: Annotated[IsoDateTime | None, Query(description="Changes at or after this time (with a zone).")] = None
    until: Annotated[IsoDateTime | None, Query(description="Changes before this time (with a zone).")] = None


class ComponentDelta(BaseModel):
    score: str
    component: str
    before: float
    after: float
    delta: float
    text: str = Field(examples=["satisfaction: complaint penalty fell by 29.5 (0.0 -> -29.5)"])


class ScoreChange(BaseModel):
    computed_at: datetime
    cause_event_id: uuid.UUID
    cause_event_type: str
    rescore_run_id: uuid.UUID | None
    changed: list[str]
    band_from: Band | None
    band_to: Band
    health_from: float | None
    health_to: float


class ExplanationRead(BaseModel):
    customer_id: uuid.UUID
    at: datetime
    window_start: datetime
    score: ScoreHistoryRead | None = Field(description="The scores in force at `at`.")
    previous: ScoreHistoryRead | None = Field(description="The scores in force before the window.")
    score_deltas: dict[str, float] = Field(description="score -> change from `previous` to `score`.")
    deltas: list[ComponentDelta] = Field(description="Every component that moved, in numbers and words.")
    changes: list[ScoreChange] = Field(description="Each change in the window with its cause, oldest first.")
    summary: str


def _section(name: str, defaults: dict[str, float]) -> type[RequestModel]:
    """A scorecard section with one documented field per parameter (its default from scorecard 1)."""
    title = "".join(part.capitalize() for part in name.split("_"))
    return create_model(  # type: ignore[call-overload]  # fields given as a **dict: no overload can check them
        f"Scorecard{title}",
        __base__=RequestModel,
        **{
            key: (StrictFloat | StrictInt, Field(default=value, ge=0, allow_inf_nan=False))
            for key, value in defaults.items()
        },
    )


_DEFAULTS = DEFAULT_SCORECARD.config()
if TYPE_CHECKING:  # made by create_model at run time: mypy knows each as the RequestModel it extends
    ScorecardWeights = RequestModel
    ScorecardBands = RequestModel
    ScorecardHalfLives = RequestModel
    ScorecardSeverityWeights = RequestModel
    ScorecardSatisfaction = RequestModel
    ScorecardLoyalty = RequestModel
    ScorecardValue = RequestModel
    ScorecardChurn = RequestModel
else:
    ScorecardWeights = _section("weights", _DEFAULTS["weights"])
    ScorecardBands = _section("bands", _DEFAULTS["bands"])
    ScorecardHalfLives = _section("half_lives", _DEFAULTS["half_lives"])
    ScorecardSeverityWeights = _section("severity_weights", _DEFAULTS["severity_weights"])
    ScorecardSatisfaction = _section("satisfaction", _DEFAULTS["satisfaction"])
    ScorecardLoyalty = _section("loyalty", _DEFAULTS["loyalty"])
    ScorecardValue = _section("value", _DEFAULTS["value"])
    ScorecardChurn = _section("churn", _DEFAULTS["churn"])


class ScorecardConfig(BaseModel):
    weights: ScorecardWeights
    bands: ScorecardBands
    half_lives: ScorecardHalfLives
    severity_weights: ScorecardSeverityWeights
    satisfaction: ScorecardSatisfaction
    loyalty: ScorecardLoyalty
    value: ScorecardValue
    churn: ScorecardChurn


class ScorecardWrite(RequestModel):
    """A new scorecard version. A section left out takes scorecard 1's values (documented per field)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "weights": {"satisfaction": 0.5, "loyalty": 0.1, "value": 0.1, "retention": 0.3},
                    "comment": "satisfaction weighs more",
                    "rescore": True,
                }
            ]
        }
    )

    weights: ScorecardWeights = Field(
        default_factory=ScorecardWeights, description="Of the scores in health; they must sum to 1."
    )
    bands: ScorecardBands = Field(
        default_factory=ScorecardBands, description="Health floors; 100 >= healthy > watch > at_risk > 0."
    )
    half_lives: ScorecardHalfLives = Field(default_factory=ScorecardHalfLives)
    severity_weights: ScorecardSeverityWeights = Field(
        default_factory=ScorecardSeverityWeights, description="Positive, low <= medium <= high <= critical."
    )
    satisfaction: ScorecardSatisfaction = Field(default_factory=ScorecardSatisfaction)
    loyalty: ScorecardLoyalty = Field(default_factory=ScorecardLoyalty)
    value: ScorecardValue = Field(default_factory=ScorecardValue)
    churn: ScorecardChurn = Field(default_factory=ScorecardChurn)
    comment: str | None = Field(default=None, max_length=2000)
    rescore: StrictBool = Field(default=False, description="Start a rescore run of every customer at once.")

    def config(self) -> dict[str, Any]:
        return self.model_dump(exclude={"comment", "rescore"})


class RescoreRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: Literal["rescore", "daily"] = Field(
        description="`rescore`: a model change; `daily`: every customer evaluated at `as_of` (time-aware scoring)."
    )
    as_of: datetime | None = Field(description="The time a daily run evaluates the customers at.")
    scorecard_version: int
    status: Literal["queued", "running", "done", "superseded", "failed"]
    total: int = Field(description="Customers scored when the run was created.")
    done: int = Field(description="Customers recomputed so far.")
    changed: int = Field(description="Customers whose scores moved.")
    requested_by: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ScorecardRead(BaseModel):
    version: int
    model_version: str = Field(examples=["scorecard-2"])
    config: ScorecardConfig
    comment: str | None
    created_by: str
    created_at: datetime
    rescore_run: RescoreRunRead | None = Field(default=None, description="Set when the PUT started a run.")


class ScorecardPage(BaseModel):
    items: list[ScorecardRead]
    next_cursor: str | None


class RescoreRunCreate(RequestModel):
    scorecard_version: StrictInt | None = Field(
        default=None, ge=1, description="The current scorecard when left out; only the current one can be run."
    )


def _iso_text(value: object) -> object:
    """A time in a body is ISO 8601 text: a number would silently mean a Unix time (1970)."""
    if value is not None and not isinstance(value, str):
        raise ValueError("give an ISO 8601 date-time with a time zone, e.g. 2026-12-05T02:00:00Z")
    return value


class DailyRunCreate(RequestModel):
    as_of: Annotated[AwareDatetime | None, BeforeValidator(_iso_text)] = Field(
        default=None,
        description="Evaluate at this time (default: now). An earlier time than a customer's latest event "
        "changes nothing for that customer.",
        examples=["2026-12-05T02:00:00Z"],
    )
    customer_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=1000, description="Only these customers (default: every customer)."
    )


class RescoreRunPage(BaseModel):
    items: list[RescoreRunRead]
    next_cursor: str | None


@dataclass
class RescoreRunFilters:
    status: Literal["queued", "running", "done", "superseded", "failed"] | None = None
