"""The right to be forgotten. Never commits: the request boundary does.

The record stays as a tombstone (id, kind, tier, segment, lifecycle, dates): counts, other
services' keys and the audit trail keep their meaning, but nothing identifies the person.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activity_records.repository import ActivityRepository
from contacts.audit import service as audit
from contacts.customer_records.models import Customer
from contacts.customer_records.repository import CustomerRepository
from contacts.customers.fields import ensure_writable
from contacts.events.publishers import publish_customer_erased
from crm_shared.db import utcnow
from crm_shared.erasure import purge_platform_records
from crm_shared.http.problems import NotFound

ERASED_NAME = "Erased customer"
# Fields whose values the audit log forgets (owner is staff, not the customer: it stays).
PERSONAL_FIELDS = {
    "name",
    "email",
    "phone",
    "external_ids",
    "secondary_identifiers",
    "tags",
    "consent",
    "attributes",
    "credit_standing",
    "credit_reason",
    "reason",
    "tier_reason",
    "tier_override_reason",
    "lifecycle_reason",
    "lifecycle_override_reason",
}


def _scrub(customer: Customer, erased_at: datetime) -> None:
    customer.name = ERASED_NAME
    customer.email = customer.phone = None
    customer.external_ids = []
    customer.tags = []
    customer.consent = {}
    customer.language = customer.timezone = None  # preferences of the person, with the rest
    customer.attributes = {}
    customer.owner = None
    customer.organisation_id = None
    # The column cannot be empty: the neutral default says nothing about the person.
    customer.credit_standing = "good"
    customer.credit_reason = None
    if customer.tier_override_reason is not None:  # free text, may name the person
        customer.tier_override_reason = "(erased)"
    if customer.lifecycle_override_reason is not None:
        customer.lifecycle_override_reason = "(erased)"
    customer.erased_at = erased_at
    customer.version += 1
    customer.updated_at = erased_at


async def erase_customer(session: AsyncSession, customer_id: uuid.UUID, *, actor: str, reason: str) -> Customer:
    """Erases the customer and the records merged into it; a second erasure changes nothing."""
    repository = CustomerRepository(session)
    customer = await repository.get_for_update(customer_id)
    if customer is None:
        raise NotFound("Customer", customer_id)
    if customer.status == "erased":
        return customer
    if customer.status == "merged":
        final = await repository.final_survivor(customer.id)
        ensure_writable(customer, final.id if final else None)
    aliases = await repository.aliases_of(customer.id)
    ids = [customer.id, *(a.id for a in aliases)]
    now = utcnow()
    for record in (customer, *aliases):
        _scrub(record, now)
    customer.status = "erased"
    await repository.delete_secondary_identifiers(ids)
    await audit.redact(session, ids, PERSONAL_FIELDS)
    await ActivityRepository(session).forget_free_text(ids)
    await purge_platform_records(session, ids)
    audit.record(
        session,
        customer.id,
        actor=actor,
        action="erased",
        changes={
            "status": {"from": "active", "to": "erased"},
            "erased_fields": sorted(PERSONAL_FIELDS - {"reason"} | {"owner", "organisation_id"}),
            "aliases": [str(a) for a in ids[1:]],
            "reason": reason,
        },
    )
    await repository.flush()
    await publish_customer_erased(session, customer.id, now, ids[1:])
    return customer
