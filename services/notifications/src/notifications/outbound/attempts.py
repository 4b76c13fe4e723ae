"""What a message and a webhook delivery share about their attempts: which statuses the delivery
runner still takes, and how one attempt of the log reads in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Statuses from which the delivery runner still takes a row (`sending` only once its lease ran out).
PENDING_STATUSES = ("queued", "scheduled", "retrying", "sending")


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    finished_at: datetime | None
    outcome: Literal["sent", "delivered", "failed", "interrupted"] | None = Field(
        description="Null while the send is in flight; `interrupted`: the worker stopped mid-send."
    )
    status_code: int | None = Field(description="HTTP status (SMS gateway, webhook) or SMTP reply code.")
    error: str | None
