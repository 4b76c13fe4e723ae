from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from contacts.activities.schemas import ActivityRead
from contacts.customers.schemas import CustomerRead

PartName = Literal["feedback", "scores", "open_tasks"]


class MissingPart(BaseModel):
    """A part of the view another service could not give in time: the rest is still true."""

    part: PartName
    reason: Literal["timeout", "unavailable", "forbidden", "error"]
    detail: str = Field(examples=["scoring did not answer within 1.0 s"])


class Customer360(BaseModel):
    customer: CustomerRead
    recent_activities: list[ActivityRead] = Field(description="Newest first, from this service.")
    recent_feedback: list[dict[str, Any]] | None = Field(
        description="Newest first, as the feedback service lists them; null when missing."
    )
    scores: dict[str, Any] | None = Field(
        description="Current scores as the scoring service gives them; null when missing or not scored yet."
    )
    open_tasks: list[dict[str, Any]] | None = Field(
        description="Open follow-up tasks, as the notifications service lists them; null when missing."
    )
    missing: list[MissingPart] = Field(description="Parts left out, and why. Empty when the view is complete.")
    complete: bool

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "customer": {"id": "6f1c8a50-3f7e-4f4f-9a53-0d3c1c7f2b10", "name": "Acme Logistics", "tier": "key"},
                    "recent_activities": [],
                    "recent_feedback": [{"id": "2b0f…", "type": "complaint", "severity": "high"}],
                    "scores": None,
                    "open_tasks": [{"id": "9c1e…", "type": "service_recovery", "assignee": "alice"}],
                    "missing": [{"part": "scores", "reason": "timeout", "detail": "scoring did not answer in 1.0 s"}],
                    "complete": False,
                }
            ]
        }
    }
