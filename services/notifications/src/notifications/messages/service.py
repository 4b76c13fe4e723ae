"""Message use cases: queue a message once per trigger, read the log, re-queue dead letters,
templates and the staff directory (sending.py: what the delivery runner decides per send).

Queuing only inserts a row (inside the caller's transaction): sending happens in the worker's
delivery loop after the commit, so a rolled-back trigger never sends anything.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared import access
from crm_shared.contracts.envelope import Envelope
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound, ProblemError, ValidationFailed
from crm_shared.observability import context
from crm_shared.projections import get_customer, reaches
from notifications.messages import templates
from notifications.messages.repository import MessageRepository
from notifications.messages.schemas import (
    MessageCreate,
    MessageDetail,
    MessageFilters,
    MessagePage,
    MessageRead,
    StaffList,
    StaffPut,
    StaffRead,
    TemplateList,
    TemplatePut,
    TemplateRead,
)
from notifications.outbound.attempts import AttemptRead

REDACTED = "[erased]"


# -- queuing ---------------------------------------------------------------------------------


async def queue_message(
    session: AsyncSession,
    *,
    trigger_id: uuid.UUID,
    trigger_type: str,
    playbook: str,
    action_key: str,
    customer_id: uuid.UUID | None,
    audience: str,
    recipient: str,
    channel: str,
    template: str | None,
    event: dict[str, Any],
    data: dict[str, Any],
    created_by: str | None = None,
) -> Row[Any] | None:
    """Insert the message unless this trigger, playbook and action already queued one (None then)."""
    now = utcnow()
    return await MessageRepository(session).create_once(
        {
            "id": new_id(),
            "customer_id": customer_id,
            "audience": audience,
            "recipient": recipient,
            "channel": channel,
            "template": template,
            "context": {"event": event, "data": data},
            "trigger_event_id": trigger_id,
            "trigger_event_type": trigger_type,
            "playbook": playbook,
            "action_key": action_key,
            "correlation_id": context.current().correlation_id,
            "created_by": created_by,
            "status": "queued",
            "attempts": 0,
            "attempts_before_requeue": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
    )


def event_context(trigger: Envelope) -> dict[str, Any]:
    return {"id": str(trigger.id), "type": trigger.type, "time": trigger.time.isoformat(), "source": trigger.source}


async def template_variants(session: AsyncSession, key: str) -> dict[str, dict[str, str]] | None:
    stored = await MessageRepository(session).template(key)
    if stored is not None:
        return stored.variants
    return templates.DEFAULT_TEMPLATES.get(key)


async def send_to_customer(session: AsyncSession, body: MessageCreate, *, actor: str) -> MessageRead:
    """`POST /v1/messages`: a templated message to a customer, through the same path as playbooks."""
    variants = await template_variants(session, body.template)
    if variants is None:
        raise ValidationFailed("template", f"no template {body.template!r}", "unknown_template")
    if refused := templates.refused_data(variants, body.data):
        raise ProblemError(
            422,
            "Validation failed",
            "; ".join(f"{e['field']}: {e['message']}" for e in refused),
            type="validation-error",
            errors=refused,
        )
    customer = await get_customer(session, body.customer_id)
    if customer is None or customer.erased_at is not None or not reaches(access.current(), customer):
        raise ValidationFailed("customer_id", f"no customer {body.customer_id}", "unknown_customer")
    message_id = new_id()
    row = await queue_message(
        session,
        trigger_id=message_id,
        trigger_type="api.message",
        playbook="api",
        action_key="send_message",
        customer_id=customer.customer_id,
        audience="customer",
        recipient="customer",
        channel=body.channel,
        template=body.template,
        event={"id": str(message_id), "type": "api.message", "time": utcnow().isoformat(), "source": actor},
        data=dict(body.data),
        created_by=actor,
    )
    assert row is not None  # a fresh trigger id never conflicts
    return MessageRead.model_validate(row)


# -- reads and re-queue ----------------------------------------------------------------------


async def get_message(session: AsyncSession, message_id: uuid.UUID) -> MessageDetail:
    repository = MessageRepository(session)
    message = await repository.get(message_id)
    if message is None:
        raise NotFound("Message", message_id)
    log = [AttemptRead.model_validate(a) for a in await repository.attempts(message_id)]
    return MessageDetail.model_validate({**MessageRead.model_validate(message).model_dump(), "attempts_log": log})


async def list_messages(session: AsyncSession, filters: MessageFilters) -> MessagePage:
    rows = await MessageRepository(session).list(
        customer_id=filters.customer_id,
        status=filters.status,
        channel=filters.channel,
        limit=filters.limit + 1,
        before=decode_time_cursor(filters.cursor),
    )
    last = rows[filters.limit - 1] if len(rows) > filters.limit else None
    return MessagePage(
        items=[MessageRead.model_validate(r) for r in rows[: filters.limit]],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )


async def retry_message(session: AsyncSession, message_id: uuid.UUID) -> MessageRead:
    """A dead message goes back to the queue with a fresh retry budget (same id: the receiver
    can still recognise it)."""
    message = await MessageRepository(session).lock(message_id)
    if message is None:
        raise NotFound("Message", message_id)
    if message.status != "dead":
        raise Conflict(
            f"Only a dead message can be re-queued; this one is {message.status}.", current_status=message.status
        )
    now = utcnow()
    message.status = "queued"
    message.status_reason = f"re-queued after {message.attempts} attempt(s)"
    message.attempts_before_requeue = message.attempts
    message.next_attempt_at = now
    message.updated_at = now
    await session.flush()
    return MessageRead.model_validate(message)


# -- templates and staff ---------------------------------------------------------------------


def _template_read(key: str, stored: Any) -> TemplateRead:
    if stored is not None:
        return TemplateRead(
            key=key,
            variants=stored.variants,
            version=stored.version,
            updated_by=stored.updated_by,
            updated_at=stored.updated_at,
        )
    return TemplateRead(key=key, variants=templates.DEFAULT_TEMPLATES[key], version=0, updated_by=None, updated_at=None)


async def get_template(session: AsyncSession, key: str) -> TemplateRead:
    stored = await MessageRepository(session).template(key)
    if stored is None and key not in templates.DEFAULT_TEMPLATES:
        raise NotFound("Message template", key)
    return _template_read(key, stored)


async def list_templates(session: AsyncSession) -> TemplateList:
    stored = {t.key: t for t in await MessageRepository(session).templates()}
    keys = sorted({*templates.DEFAULT_TEMPLATES, *stored})
    return TemplateList(items=[_template_read(k, stored.get(k)) for k in keys])


async def put_template(session: AsyncSession, key: str, body: TemplatePut, *, actor: str) -> TemplateRead:
    variants = {lang: variant.model_dump() for lang, variant in body.variants.items()}
    stored = await MessageRepository(session).put_template(key, variants, actor, utcnow())
    return _template_read(key, stored)


async def put_staff(session: AsyncSession, name: str, body: StaffPut) -> StaffRead:
    values = body.model_dump(include={"email", "phone", "role", "reports_to"})
    if body.reports_to == name:
        raise ValidationFailed("reports_to", "a person cannot report to themselves", "self_reference")
    return StaffRead.model_validate(await MessageRepository(session).put_staff(name, values, utcnow()))


async def get_staff(session: AsyncSession, name: str) -> StaffRead:
    member = await MessageRepository(session).staff(name)
    if member is None:
        raise NotFound("Staff member", name)
    return StaffRead.model_validate(member)


async def list_staff(session: AsyncSession) -> StaffList:
    return StaffList(items=[StaffRead.model_validate(m) for m in await MessageRepository(session).all_staff()])


# -- merge and erasure -----------------------------------------------------------------------


async def on_customer_merged(session: AsyncSession, merged_id: uuid.UUID, survivor_id: uuid.UUID) -> None:
    """Messages of the merged id move to the survivor."""
    await MessageRepository(session).move_customer(merged_id, survivor_id)


async def on_customer_erased(session: AsyncSession, customer_ids: list[uuid.UUID]) -> None:
    """Addresses, rendered texts and trigger data of the customer's messages are removed; what is
    still waiting is suppressed. Status, channel, template and times stay (the delivery log)."""
    await MessageRepository(session).redact_customer(customer_ids, utcnow(), REDACTED)
