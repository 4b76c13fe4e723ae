"""What a message and a webhook delivery share about their attempts: which statuses the delivery
runner still takes, the columns of an attempt-log row, and how one attempt reads in the API.

It lives in notifications' `outbound/` and not in crm_shared: the statuses, the lease and the
retry budget are those of this service's delivery runner, and no other service sends anything out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

# Statuses from which the delivery runner still takes a row (`sending` only once its lease ran out).
PENDING_STATUSES = ("queued", "scheduled", "retrying", "sending")


class AttemptColumns:
    """The delivery log's columns (`message_attempts`, `webhook_attempts`): one row per send,
    written before the send, so a crash mid-send shows. Each table adds its key to the item
    first, so the primary key stays (item id, number)."""

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # sent | delivered | failed | interrupted (the worker stopped mid-send); null while in flight
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


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
