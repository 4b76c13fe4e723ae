"""Playbook actions that send messages: the executors the playbook engine calls.

Each executor only inserts a message row in the caller's transaction (the trigger event's), once
per (trigger event id, playbook, action key): a redelivered or re-run trigger inserts nothing.
The worker's delivery loop sends it after the commit (messages/delivery.py).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from notifications.messages.service import event_context, queue_message
from notifications.outbound import signing


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SendMessageParams(_Params):
    kind: Literal["send_message"]
    channel: Literal["email", "sms"]
    template: str = Field(min_length=1, max_length=60)


class NotifyStaffParams(_Params):
    kind: Literal["notify_staff"]
    channel: Literal["email", "sms"]
    template: str = Field(min_length=1, max_length=60)
    to: str = Field(
        pattern=r"^(owner|team_lead|manager|user:[^/\s][^/]{0,194})$",
        description="`owner` (the customer's account owner), `team_lead`, `manager` or `user:<name>`.",
    )


class CallWebhookParams(_Params):
    kind: Literal["call_webhook"]
    url: str = Field(max_length=2000, pattern=r"^https?://[^\s/?#]+[^\s]*$")
    template: str | None = Field(default=None, min_length=1, max_length=60)

    @field_validator("url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        return signing.checked_url(value)


def _customer_id(trigger: Envelope, customer: Row[Any] | None) -> uuid.UUID | None:
    if customer is not None:
        return customer.customer_id
    try:
        return uuid.UUID(trigger.subject)
    except ValueError:
        return None


async def _queue(
    session: AsyncSession,
    trigger: Envelope,
    playbook: str,
    action_key: str,
    customer: Row[Any] | None,
    *,
    audience: str,
    recipient: str,
    channel: str,
    template: str | None,
) -> None:
    """One message row per (trigger, action key): a redelivered trigger queues nothing new."""
    await queue_message(
        session,
        trigger_id=trigger.id,
        trigger_type=trigger.type,
        playbook=playbook,
        action_key=action_key,
        customer_id=_customer_id(trigger, customer),
        audience=audience,
        recipient=recipient,
        channel=channel,
        template=template,
        event=event_context(trigger),
        data=trigger.data,
    )


async def send_message(
    session: AsyncSession,
    trigger: Envelope,
    *,
    playbook: str,
    action_key: str,
    customer: Row[Any] | None,
    params: dict[str, Any],
) -> None:
    """A templated email or SMS to the trigger's customer (consent and quiet hours apply)."""
    action = SendMessageParams.model_validate(params)
    await _queue(
        session,
        trigger,
        playbook,
        action_key,
        customer,
        audience="customer",
        recipient="customer",
        channel=action.channel,
        template=action.template,
    )


async def notify_staff(
    session: AsyncSession,
    trigger: Envelope,
    *,
    playbook: str,
    action_key: str,
    customer: Row[Any] | None,
    params: dict[str, Any],
) -> None:
    """A templated email or SMS to staff (no consent, no quiet hours): see `resolve_staff`."""
    action = NotifyStaffParams.model_validate(params)
    await _queue(
        session,
        trigger,
        playbook,
        action_key,
        customer,
        audience="staff",
        recipient=action.to,
        channel=action.channel,
        template=action.template,
    )


async def call_webhook(
    session: AsyncSession,
    trigger: Envelope,
    *,
    playbook: str,
    action_key: str,
    customer: Row[Any] | None,
    params: dict[str, Any],
) -> None:
    """POST the trigger (and the rendered template, if any) to a URL, with retries."""
    action = CallWebhookParams.model_validate(params)
    await _queue(
        session,
        trigger,
        playbook,
        action_key,
        customer,
        audience="system",
        recipient=action.url,
        channel="webhook",
        template=action.template,
    )


MESSAGE_EXECUTORS = {"send_message": send_message, "notify_staff": notify_staff, "call_webhook": call_webhook}
