from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    customer_id: uuid.UUID
    actor: str = Field(description="Subject of the bearer token that made the change.")
    action: str = Field(examples=["created", "updated"])
    changes: dict[str, Any] = Field(
        description="Per field, its value before (`from`) and after (`to`).",
        examples=[{"owner": {"from": "alice", "to": "bob"}}],
    )
    correlation_id: str | None
    at: datetime


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")
