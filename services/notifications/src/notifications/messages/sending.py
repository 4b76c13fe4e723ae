"""What the delivery runner decides about a message: before the send (suppress, hold for quiet hours,
render, resolve staff) and after it (sent, retry or dead)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.projections import get_customer
from notifications.config import Settings
from notifications.messages import templates
from notifications.messages.models import Message, StaffMember
from notifications.messages.repository import MessageRepository
from notifications.messages.service import template_variants
from notifications.outbound import lease, schedule
from notifications.outbound.transports import Outcome
from notifications.teams.repository import TeamRepository

# Consent key per channel in the customer card (contacts' `consent`): opt-in, a missing key is a no.
CONSENT_KEY = {"email": "email", "sms": "sms"}


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
    await lease.close_interrupted(repository, message, now)
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
    number = lease.lease(repository, message, now, settings)
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
        number=number,
        channel=message.channel,
        to=address,
        subject=subject,
        body=body,
        language=language,
        payload=payload,
    )


async def record_outcome(
    session: AsyncSession, job: Outgoing, outcome: Outcome, *, now: datetime, settings: Settings
) -> None:
    """Sent, a retry after backoff, or dead; a sent message keeps when it left."""
    message = await lease.finish(
        MessageRepository(session), job.id, job.number, outcome, done="sent", now=now, settings=settings
    )
    if message is not None and outcome.ok:
        message.sent_at = now
