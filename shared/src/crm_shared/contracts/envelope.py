"""The event envelope, modelled on CloudEvents 1.0 (structured JSON mode)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_shared.contracts.events import EVENT_PAYLOADS
from crm_shared.observability import context


class Envelope(BaseModel):
    """One integration event. `subject` is the customer id, and also the Kafka key."""

    model_config = ConfigDict(frozen=True)

    specversion: str = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(examples=["crm.feedback.received.v1"])
    source: str = Field(examples=["crm/feedback"])
    subject: str = Field(description="Customer id; also the partition key.")
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    datacontenttype: str = "application/json"
    correlationid: str = Field(description="Shared by every event of one business flow.")
    causationid: str | None = Field(default=None, description="Id of the event or request that caused this one.")
    data: dict[str, Any]

    def payload(self) -> BaseModel:
        """The data parsed into its contract model, so handlers work with typed fields."""
        return EVENT_PAYLOADS[self.type].model_validate(self.data)


def new_event(*, type: str, source: str, subject: str | uuid.UUID, data: BaseModel) -> Envelope:
    """An event caused by whatever is being handled now (request or consumed event)."""
    expected = EVENT_PAYLOADS.get(type)
    if expected is None or not isinstance(data, expected):
        raise TypeError(f"{type!r} needs a {expected.__name__ if expected else 'registered'} payload")
    ctx = context.current()
    return Envelope(
        type=type,
        source=source,
        subject=str(subject),
        correlationid=ctx.correlation_id,
        causationid=ctx.causation_id,
        data=data.model_dump(mode="json"),
    )
