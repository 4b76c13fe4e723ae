from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm_shared import access

# Changes of these fields quote the customer's personal data: an analyst sees that they changed.
PERSONAL_FIELDS = frozenset({"name", "email", "phone", "external_ids", "attributes", "secondary_identifiers"})
WITHHELD = "[pseudonymised]"


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

    @model_validator(mode="after")
    def _pseudonymised_for_analysts(self) -> Self:
        if access.current().pseudonymised:
            self.changes = {
                field: {"from": WITHHELD, "to": WITHHELD} if field in PERSONAL_FIELDS else change
                for field, change in self.changes.items()
            }
        return self


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page; null on the last page.")
