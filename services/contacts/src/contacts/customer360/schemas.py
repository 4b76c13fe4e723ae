from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from contacts.activities.schemas import ActivityRead
from contacts.customers.schemas import CustomerRead

PartName = Literal["feedback", "scores", "tasks", "messages", "sla_clocks", "score_trend"]


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


class CustomerSummary(BaseModel):
    """The relationship at a glance, from this service's own record and commercial history."""

    customer_since: date = Field(description="When the record was created.")
    tenure_days: int
    revenue_12_months: Decimal = Field(description="Orders of the last 365 days, in the reporting currency.")
    contracts_in_force: int = Field(description="Contracts started and not yet ended today.")
    next_renewal: date | None = Field(
        description="The soonest end date of a contract in force (null: none in force, or none ends)."
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
    summary: CustomerSummary
    recent_messages: list[dict[str, Any]] | None = Field(
        default=None, description="Messages sent or queued to the customer, newest first; null when missing."
    )
    running_sla_clocks: list[dict[str, Any]] | None = Field(
        default=None,
        description="SLA clocks of the customer's complaints still counting (running or paused), soonest due "
        "first; null when missing.",
    )
    score_trend: list[dict[str, Any]] | None = Field(
        default=None, description="The latest score changes, newest first (health, band, cause); null when missing."
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
