from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from contacts.activities.schemas import ActivityRead
from contacts.customers.schemas import CustomerRead

PartName = Literal["feedback", "scores", "tasks"]


class MissingPart(BaseModel):
    """A part of the view another service could not give in time: the rest is still true."""

    part: PartName
    reason: Literal["timeout", "unavailable", "forbidden", "error"]
    detail: str = Field(examples=["scoring did not answer within 1.0 s"])


class CustomerTasks(BaseModel):
    """The customer's follow-up tasks as the notifications service lists them, each with its `status`."""

    open: list[dict[str, Any]] = Field(description="Waiting for someone to claim them, newest first.")
    claimed: list[dict[str, Any]] = Field(description="Being worked on (`claimed_by`), newest first.")
    recently_closed: list[dict[str, Any]] = Field(
        description="Completed (`done`) or `cancelled` in the last 30 days, last closed first; `outcome` says "
        "how it ended (the reason, for a cancelled one)."
    )


class Customer360(BaseModel):
    customer: CustomerRead
    recent_activities: list[ActivityRead] = Field(description="Newest first, from this service.")
    recent_feedback: list[dict[str, Any]] | None = Field(
        description="Newest first, as the feedback service lists them; null when missing."
    )
    scores: dict[str, Any] | None = Field(
        description="Current scores as the scoring service gives them; null when missing or not scored yet."
    )
    tasks: CustomerTasks | None = Field(
        description="Follow-up tasks: open, claimed, and closed in the last 30 days; null when missing."
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
                    "tasks": {
                        "open": [{"id": "9c1e…", "type": "service_recovery", "status": "open", "assignee": "alice"}],
                        "claimed": [
                            {"id": "4d2a…", "type": "key_account_review", "status": "claimed", "claimed_by": "bob"}
                        ],
                        "recently_closed": [
                            {"id": "7b3f…", "type": "service_recovery", "status": "done", "outcome": "refund sent"}
                        ],
                    },
                    "missing": [{"part": "scores", "reason": "timeout", "detail": "scoring did not answer in 1.0 s"}],
                    "complete": False,
                }
            ]
        }
    }
