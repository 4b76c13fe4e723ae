"""Message use cases: queue a message once per trigger, read the log, re-queue dead letters,
templates and the staff directory; and what the delivery loop decides before each send.

Queuing only inserts a row (inside the caller's transaction): sending happens in the worker's
delivery loop after the commit, so a rolled-back trigger never sends anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound, ValidationFailed
from crm_shared.observability import context
from crm_shared.projections import get_customer
from notifications.config import Settings
from notifications.messages import templates
from notifications.messages.models import Message, MessageAttempt, StaffMember
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
from notifications.outbound import schedule
from notifications.outbound.attempts import AttemptRead
from notifications.teams.repository import TeamRepository

REDACTED = "[erased]"
# Consent key per channel in the customer card (contacts' `consent`): opt-in, a missing key is a no.
CONSENT_KEY = {"email": "email", "sms": "sms"}


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
    if await template_variants(session, body.template) is None:
        raise ValidationFailed("template", f"no template {body.template!r}", "unknown_template")
    customer = await get_customer(session, body.customer_id)
    if customer is None or customer.erased_at is not None:
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
    message = await MessageRepository(session).get(message_id, for_update=True)
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


# -- the delivery loop's decisions -----------------------------------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One send, as decided in the claim's transaction (the send happens after its commit)."""

    id: uuid.UUID
    number: int
    channel: str
    to: str
    subject: str
    body: str
    language: str | None
    payload: dict[str, Any] | None = None  # for a webhook call


def _card_values(customer: Row[Any] | None) -> dict[str, Any]:
    if customer is None:
        return {}
    return {
        "id": str(customer.customer_id),
        "name": customer.name,
        "tier": customer.tier,
        "owner": customer.owner,
        "region": customer.region,
        "industry": customer.industry,
        "language": customer.language,
    }


async def resolve_staff(
    repository: MessageRepository, recipient: str, customer: Row[Any] | None, settings: Settings
) -> tuple[str | None, StaffMember | None]:
    """The staff member a `notify_staff` "to" names: `user:<name>`, the customer's `owner`, or
    `team_lead` / `manager`: the lead / manager of the owner's team (`PUT /v1/teams/{name}`, the
    same chain overdue tasks escalate along), else the owner's `reports_to` in the directory (and
    that person's `reports_to`), else the NOTIFICATIONS_STAFF_TEAM_LEAD / _MANAGER setting, else the
    directory's first with that role. The directory gives the address."""
    if recipient.startswith("user:"):
        name = recipient.removeprefix("user:")
        return name, await repository.staff(name)
    owner_name = customer.owner if customer is not None else None
    if recipient == "owner":
        return owner_name, await repository.staff(owner_name) if owner_name else None
    team = await TeamRepository(repository.session).of_member(owner_name) if owner_name else None
    owner = await repository.staff(owner_name) if owner_name else None
    lead_name = (team.lead if team else None) or (
        owner.reports_to if owner and owner.reports_to else settings.staff_team_lead
    )
    lead = await repository.staff(lead_name) if lead_name else await repository.staff_with_role("team_lead")
    if recipient == "team_lead":
        return (lead.name if lead else lead_name), lead
    manager_name = (team.manager if team else None) or (
        lead.reports_to if lead and lead.reports_to else settings.staff_manager
    )
    manager = await repository.staff(manager_name) if manager_name else await repository.staff_with_role("manager")
    return (manager.name if manager else manager_name), manager


async def prepare(session: AsyncSession, message: Message, now: datetime, settings: Settings) -> Outgoing | None:
    """Decide what becomes of a due message, in the claim's transaction: suppressed (no consent,
    no address, customer gone), scheduled (quiet hours), dead (nothing to send), or an attempt
    row, status `sending` and a lease, committed before the send so a crash is visible."""
    repository = MessageRepository(session)
    customer = await get_customer(session, message.customer_id) if message.customer_id else None
    if message.status == "sending":
        # The lease ran out: the worker that sent it stopped before recording the outcome.
        interrupted = await repository.get_attempt(message.id, message.attempts)
        if interrupted is not None and interrupted.outcome is None:
            interrupted.outcome = "interrupted"
            interrupted.finished_at = now
            interrupted.error = "no outcome recorded (the worker stopped mid-send); sent again with the same id"
    values: dict[str, Any] = {
        "customer": _card_values(customer),
        "event": message.context.get("event", {}),
        "data": message.context.get("data", {}),
    }
    if message.audience == "customer":
        if customer is None:
            schedule.stop(message, "suppressed", "no customer card for this id", now)
            return None
        if customer.erased_at is not None:
            schedule.stop(message, "suppressed", "customer erased", now)
            return None
        if not (customer.consent or {}).get(CONSENT_KEY[message.channel]):
            schedule.stop(message, "suppressed", f"no consent for {message.channel}", now)
            return None
        address = customer.email if message.channel == "email" else customer.phone
        if not address:
            schedule.stop(
                message, "suppressed", f"the customer has no {'email' if message.channel == 'email' else 'phone'}", now
            )
            return None
        tz = schedule.zone(customer.timezone, settings.default_timezone)
        until = schedule.quiet_until(
            now, tz, schedule.parse_clock(settings.quiet_hours_start), schedule.parse_clock(settings.quiet_hours_end)
        )
        if until is not None:
            message.status = "scheduled"
            message.status_reason = f"quiet hours in {tz.key} until {until.astimezone(tz):%H:%M}"
            message.next_attempt_at = until
            message.updated_at = now
            return None
        language = customer.language
    elif message.audience == "staff":
        name, member = await resolve_staff(repository, message.recipient, customer, settings)
        address = (member.email if message.channel == "email" else member.phone) if member else None
        if not address:
            kind = "email" if message.channel == "email" else "phone"
            schedule.stop(
                message,
                "dead",
                f"no {kind} for staff {message.recipient!r} ({name or 'nobody'}): PUT /v1/staff/{{name}}, then retry",
                now,
            )
            return None
        values["staff"] = {"name": name}
        language = None
    else:
        address = message.recipient
        language = customer.language if customer is not None else None

    subject = body = ""
    if message.template:
        variants = await template_variants(session, message.template)
        if variants is None:
            schedule.stop(message, "dead", f"no template {message.template!r}", now)
            return None
        language, subject, body = templates.render(variants, language, values)
    message.language = language
    message.to_address = address
    message.subject = subject or None
    message.body = body or None
    message.attempts += 1
    message.status = "sending"
    message.next_attempt_at = now + timedelta(seconds=settings.delivery_lease_seconds)
    message.updated_at = now
    repository.add_attempt(MessageAttempt(message_id=message.id, number=message.attempts, started_at=now))
    payload = None
    if message.channel == "webhook":
        payload = {
            "message_id": str(message.id),
            "playbook": message.playbook,
            "action": message.action_key,
            "customer_id": str(message.customer_id) if message.customer_id else None,
            "event": {**message.context.get("event", {}), "data": message.context.get("data", {})},
            "rendered": {"language": language, "subject": subject, "body": body} if message.template else None,
        }
    return Outgoing(
        id=message.id,
        number=message.attempts,
        channel=message.channel,
        to=address,
        subject=subject,
        body=body,
        language=language,
        payload=payload,
    )


async def record_outcome(
    session: AsyncSession,
    job: Outgoing,
    *,
    ok: bool,
    permanent: bool,
    status_code: int | None,
    error: str | None,
    now: datetime,
    settings: Settings,
) -> None:
    """Store the attempt's outcome and what follows: sent, a retry after backoff, or dead."""
    repository = MessageRepository(session)
    message = await repository.get(job.id, for_update=True)
    attempt = await repository.get_attempt(job.id, job.number)
    settled = schedule.settle(
        message,
        attempt,
        number=job.number,
        ok=ok,
        permanent=permanent,
        status_code=status_code,
        error=error,
        now=now,
        done="sent",
        max_attempts=settings.delivery_max_attempts,
        backoff_seconds=settings.delivery_backoff_seconds,
        backoff_max_seconds=settings.delivery_backoff_max_seconds,
    )
    if settled and ok:
        message.sent_at = now
