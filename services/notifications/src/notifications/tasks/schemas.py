from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from crm_shared.http.query import IsoDateTime
from crm_shared.http.schemas import RequestModel


class TaskStatus(StrEnum):
    """open -> claimed -> done | cancelled; an open task may also be completed or cancelled directly."""

    open = "open"
    claimed = "claimed"
    done = "done"
    cancelled = "cancelled"


class TaskRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3c0f5a0e-8f4b-4b6e-a7f8-0d1a2b3c4d5e",
                    "customer_id": "6f1c8a50-3f7e-4f4f-9a53-0d3c1c7f2b10",
                    "type": "service_recovery",
                    "playbook": "service_recovery",
                    "action_key": "service_recovery:0",
                    "title": "Call back about a high complaint (service.delivery)",
                    "status": "open",
                    "priority": "high",
                    "assignee": "alice",
                    "team": None,
                    "due_at": "2026-11-22T22:15:02Z",
                    "cause_event_id": "0b8e5a8e-5d55-4c1a-8a43-7d2e8f0f4a11",
                    "cause_event_type": "crm.feedback.received.v1",
                    "correlation_id": "5d7c2e1a-0000-4000-8000-000000000001",
                    "claimed_by": None,
                    "outcome": None,
                    "closed_at": None,
                    "escalation_level": 0,
                    "next_escalation_at": "2026-11-22T22:15:02Z",
                    "escalated_at": None,
                    "created_at": "2026-11-22T10:15:02Z",
                }
            ]
        },
    )

    id: uuid.UUID
    customer_id: uuid.UUID | None = Field(description="null for a management task about no customer (see `subject`).")
    subject: str | None = Field(
        default=None,
        description="What a management task is about: `indicator:<name>:<dimension>:<segment>` (an indicator "
        "alert) or `theme:<category>:<product>` (a recurring complaint theme); null for a customer's task.",
    )
    type: str
    playbook: str
    action_key: str = Field(description="`<playbook>:<action index>`; one task per trigger event and action key.")
    title: str
    status: TaskStatus
    priority: str
    assignee: str
    team: str | None = Field(description="The team queue it came from, or whose lead/manager it escalated to.")
    due_at: datetime
    cause_event_id: uuid.UUID = Field(description="The event that made this task.")
    cause_event_type: str
    correlation_id: str = Field(description="Shared with the complaint request and every event it caused.")
    claimed_by: str | None
    outcome: str | None = Field(description="Of a completed task; the reason of a cancelled one.")
    closed_at: datetime | None
    escalation_level: int = Field(description="0 = not escalated, 1 = team lead, 2 = manager.")
    next_escalation_at: datetime | None = Field(description="When it escalates next if still undone.")
    escalated_at: datetime | None = Field(description="When it last escalated.")
    created_at: datetime


class TaskPage(BaseModel):
    items: list[TaskRead]
    next_cursor: str | None


@dataclass
class TaskFilters:
    """The filters of GET /v1/tasks; FastAPI reads them from the query string (a dependency)."""

    customer_id: uuid.UUID | None = None
    subject: Annotated[
        str | None, Query(max_length=300, description="Management tasks about one alert or theme (exact subject).")
    ] = None
    status: Annotated[
        list[TaskStatus] | None,
        Query(description="Repeat it for several (`status=open&status=claimed`: the work in progress)."),
    ] = None
    assignee: Annotated[str | None, Query(max_length=200)] = None
    type: Annotated[str | None, Query(max_length=40)] = None
    due_before: Annotated[IsoDateTime | None, Query(description="Due strictly before this time.")] = None
    due_after: Annotated[IsoDateTime | None, Query(description="Due at or after this time.")] = None
    overdue: Annotated[bool | None, Query(description="true: open or claimed and past due; false: the others.")] = None
    closed_since: Annotated[
        IsoDateTime | None, Query(description="Completed or cancelled at or after this time (with its outcome).")
    ] = None


class TaskComplete(RequestModel):
    outcome: str = Field(min_length=1, max_length=2000, examples=["customer satisfied with the replacement"])


class TaskCancel(RequestModel):
    reason: str = Field(min_length=1, max_length=2000, examples=["duplicate of the call-back task"])
