from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


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
                    "title": "Call back about a high complaint (service.delivery)",
                    "status": "open",
                    "priority": "high",
                    "assignee": "alice",
                    "due_at": "2026-11-22T22:15:02Z",
                    "cause_event_id": "0b8e5a8e-5d55-4c1a-8a43-7d2e8f0f4a11",
                    "cause_event_type": "crm.feedback.received.v1",
                    "correlation_id": "5d7c2e1a-0000-4000-8000-000000000001",
                    "created_at": "2026-11-22T10:15:02Z",
                }
            ]
        },
    )

    id: uuid.UUID
    customer_id: uuid.UUID
    type: str
    playbook: str
    title: str
    status: str
    priority: str
    assignee: str
    due_at: datetime
    cause_event_id: uuid.UUID = Field(description="The event that made this task.")
    cause_event_type: str
    correlation_id: str = Field(description="Shared with the complaint request and every event it caused.")
    created_at: datetime


class TaskPage(BaseModel):
    items: list[TaskRead]
    next_cursor: str | None
