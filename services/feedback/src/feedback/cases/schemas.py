from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.contracts.vocabulary import CaseStatus, FeedbackType
from crm_shared.http.schemas import RequestModel
from feedback.resolutions.schemas import ResolutionIn


class TransitionCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {"to": "acknowledged"},
                {
                    "to": "resolved",
                    "reason": "Replacement delivered; customer confirmed on the phone.",
                    "resolution": {
                        "cause_code": "delivery.late",
                        "remedy": "Replacement shipped by express courier.",
                        "compensation": {"amount": "150.00", "currency": "EUR"},
                    },
                },
                {"to": "in_progress", "reason": "Customer called again: the replacement is also faulty."},
            ]
        },
    )

    to: CaseStatus = Field(description="The status to move the case to (see its type's lifecycle).")
    reason: str | None = Field(
        default=None, max_length=2_000, description="Why; kept in the history (staff-only, erased with the customer)."
    )
    resolution: ResolutionIn | None = Field(
        default=None,
        description="Required to resolve a complaint: the cause code, the remedy and any compensation "
        "(422 naming every missing field otherwise, and nothing changes).",
    )


class StatusChangeRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f3a4-6d1e-7a53-9b1e-2f8e0c6b1a11",
                    "feedback_id": "0190f3a4-5c2d-7f10-8a3b-1d2e3f4a5b6c",
                    "from_status": "resolved",
                    "to_status": "in_progress",
                    "reopened": True,
                    "changed_by": "system",
                    "changed_at": "2026-03-02T09:15:00Z",
                    "reason": "unhappy follow-up answer (CSAT 2)",
                }
            ]
        },
    )

    id: uuid.UUID
    feedback_id: uuid.UUID
    from_status: CaseStatus | None
    to_status: CaseStatus
    reopened: bool
    changed_by: str = Field(description="Token subject of the person, or `system` for automatic changes.")
    changed_at: datetime
    reason: str | None


class TransitionRead(StatusChangeRead):
    allowed_next: list[CaseStatus] = Field(description="Where the case may go from its new status.")


class CaseHistory(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "feedback_id": "0190f3a4-5c2d-7f10-8a3b-1d2e3f4a5b6c",
                    "type": "complaint",
                    "status": "in_progress",
                    "allowed_next": ["resolved"],
                    "items": [],
                }
            ]
        }
    )

    feedback_id: uuid.UUID
    type: FeedbackType
    status: CaseStatus
    allowed_next: list[CaseStatus]
    items: list[StatusChangeRead] = Field(description="Oldest first; a new complaint (received) has none yet.")


class NoteCreate(RequestModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [{"text": "Spoke to the plant manager; credit note agreed with finance."}]},
    )

    text: str = Field(min_length=1, max_length=10_000, description="Staff-only; never sent to the customer.")


class NoteRead(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f3a4-7e2f-7b64-8c2f-3a9f1d7c2b22",
                    "feedback_id": "0190f3a4-5c2d-7f10-8a3b-1d2e3f4a5b6c",
                    "text": "Spoke to the plant manager; credit note agreed with finance.",
                    "author": "alice",
                    "created_at": "2026-03-01T14:02:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    feedback_id: uuid.UUID
    text: str
    author: str
    created_at: datetime


class NoteList(BaseModel):
    items: list[NoteRead] = Field(description="Oldest first.")
