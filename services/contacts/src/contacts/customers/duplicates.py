"""Duplicate detection on create, and folding a duplicate's details into the record it copies.

Never commits. The merge of two existing records (`merging.py`) reuses `absorb`.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.audit import service as audit
from contacts.customer_records.models import Customer, CustomerExternalId
from contacts.customer_records.repository import CustomerRepository
from contacts.customers.fields import (
    AUDITED_FIELDS,
    audited_value,
    external_id_pairs,
    normalized_identifiers,
    stored_value,
)
from contacts.customers.schemas import CustomerCreate, DuplicateCandidate, OnDuplicate
from contacts.customers.service import check_organisation, create_customer, for_callers_reach
from contacts.events.publishers import publish_customer_updated
from crm_shared import access
from crm_shared.db import utcnow
from crm_shared.http.problems import Conflict

# Names this close (pg_trgm similarity, 0..1) are probably the same customer. Measured on sample
# pairs: "Hank Scorpio"/"Hank Scorpoi" 0.62 but "John Smith"/"Jane Smith" 0.47; "Acme Logistics"/
# "Acme Logistcs" 0.71 but "North Star Shipping"/"North Shore Shipping" 0.65. An organisation name
# is matched across the whole master, so it needs the stricter bar.
PERSON_NAME_SIMILARITY = 0.6
ORGANISATION_NAME_SIMILARITY = 0.7


@dataclass
class Duplicate:
    """A record a new customer may be a copy of, and why it matched."""

    customer: Customer
    matched: list[str] = dataclasses.field(default_factory=list)
    similarity: float | None = None

    @property
    def by_identifier(self) -> bool:
        return any(m != "name" for m in self.matched)

    def describe(self) -> dict[str, Any]:
        """The candidate; its name only if the caller may see it (duplicate checks are global)."""
        customer = self.customer
        visible = access.current().covers(customer.owner, customer.owner_team, customer.partner)
        return DuplicateCandidate(
            id=customer.id, name=customer.name if visible else None, matched=self.matched, similarity=self.similarity
        ).model_dump(mode="json")


async def find_duplicates(session: AsyncSession, data: CustomerCreate, phone_region: str | None) -> list[Duplicate]:
    """Active records that share an identifier with `data`, or whose name is very close.

    Identifiers: normalised email or phone (also those kept from merged records) and external
    ids. Names: people of the same organisation, or organisations anywhere; a similar name is
    weak evidence, so it does not count when both records have an email, or both a phone, and
    they differ (two "Acme" branches with their own mailboxes). An exact namesake in the same
    organisation always counts (one record per name there). Strongest first.
    """
    email, phone = normalized_identifiers(data.email, data.phone, phone_region)
    repository = CustomerRepository(session)
    pairs = external_id_pairs(data.external_ids)
    found: dict[uuid.UUID, Duplicate] = {}
    for customer in await repository.find_by_identifiers(email=email, phone=phone, external_ids=pairs):
        duplicate = found.setdefault(customer.id, Duplicate(customer))
        secondary = {(i.kind, i.value) for i in await repository.secondary_identifiers([customer.id])}
        if email and (customer.email == email or ("email", email) in secondary):
            duplicate.matched.append("email")
        if phone and (customer.phone == phone or ("phone", phone) in secondary):
            duplicate.matched.append("phone")
        duplicate.matched += [f"external_id:{e.label}" for e in customer.external_ids if (e.system, e.id) in pairs]
    exact: set[uuid.UUID] = set()
    if data.kind.value == "person" and data.organisation_id is not None:
        similar = await repository.similar_people(data.organisation_id, data.name, PERSON_NAME_SIMILARITY)
        exact = {c.id for c in await repository.people_named(data.organisation_id, data.name)}
    elif data.kind.value == "organisation":
        similar = await repository.similar_organisations(data.name, ORGANISATION_NAME_SIMILARITY)
    else:
        similar = []  # a person on their own: a name is not an identity
    for customer, score in similar:
        contradicted = (email and customer.email and customer.email != email) or (
            phone and customer.phone and customer.phone != phone
        )
        if contradicted and customer.id not in exact and customer.id not in found:
            continue
        duplicate = found.setdefault(customer.id, Duplicate(customer))
        duplicate.matched.append("name")
        duplicate.similarity = round(score, 4)
    return sorted(found.values(), key=lambda d: (-len(d.matched), -(d.similarity or 0), str(d.customer.id)))


def duplicate_conflict(duplicates: list[Duplicate], detail: str) -> Conflict:
    return Conflict(
        detail,
        candidates=[str(d.customer.id) for d in duplicates],
        duplicates=[d.describe() for d in duplicates],
    )


async def create_or_merge(
    session: AsyncSession,
    data: CustomerCreate,
    *,
    actor: str,
    phone_region: str | None,
    on_duplicate: OnDuplicate = OnDuplicate.reject,
) -> tuple[Customer, bool]:
    """Creates the customer, or with `merge` folds the data into the one record it duplicates.

    Returns the record and whether it is new. `create` overrides name-only likeness (two real
    people may have similar names); a shared identifier or an exact namesake is always a 409.
    """
    data = for_callers_reach(data)
    email, phone = normalized_identifiers(data.email, data.phone, phone_region)
    repository = CustomerRepository(session)
    if data.organisation_id is not None:
        await check_organisation(repository, data.organisation_id)
    duplicates = await find_duplicates(session, data, phone_region)
    if on_duplicate is OnDuplicate.create:
        duplicates = [d for d in duplicates if d.by_identifier]
    if not duplicates:
        return await create_customer(session, data, actor=actor, phone_region=phone_region), True
    if on_duplicate is not OnDuplicate.merge:
        raise duplicate_conflict(
            duplicates,
            "This customer seems to exist already (see `duplicates`). Send `on_duplicate=merge` to add "
            "the new details to that record, or change the request.",
        )
    if len(duplicates) > 1 or duplicates[0].customer.kind != data.kind.value:
        raise duplicate_conflict(
            duplicates,
            "Several records (or a record of another kind) match: merge them first, or create with "
            "identifiers that name one customer.",
        )
    target = await repository.get_for_update(duplicates[0].customer.id)
    if target is None:  # outside the caller's reach (crm_shared.access): not theirs to add to
        raise duplicate_conflict(
            duplicates,
            "This customer exists already among customers you do not see: ask an agent or its owner "
            "to add the details.",
        )
    before = {f: audited_value(target, f) for f in AUDITED_FIELDS}
    moved = [CustomerExternalId(system=s, id=i) for s, i in external_id_pairs(data.external_ids)]
    incoming = data.model_dump(include=set(FILLED_WHEN_EMPTY))
    incoming["strategic"] = data.strategic
    incoming |= {f: stored_value(f, getattr(data, f)) for f in ("tags", "consent", "attributes")}
    added = await absorb(repository, target, incoming, email=email, phone=phone, external_ids=moved, merged_from=None)
    changed = [f for f in AUDITED_FIELDS if audited_value(target, f) != before[f]]
    if changed or added:
        changes = {f: {"from": before[f], "to": audited_value(target, f)} for f in changed}
        if added:
            changes["secondary_identifiers"] = {"from": None, "to": added}
        audit.record(session, target.id, actor=actor, action="duplicate_merged", changes=changes)
        target.version += 1
        target.updated_at = utcnow()
        await repository.flush()
        await publish_customer_updated(
            session, target, sorted([*changed, *(["secondary_identifiers"] if added else [])])
        )
    return target, False


FILLED_WHEN_EMPTY = ("owner", "organisation_id", "region", "industry", "size", "potential", "language", "timezone")


async def absorb(
    repository: CustomerRepository,
    target: Customer,
    incoming: dict[str, Any],
    *,
    email: str | None,
    phone: str | None,
    external_ids: list[CustomerExternalId],
    merged_from: uuid.UUID | None,
) -> list[str]:
    """Adds what `target` lacks, never overwriting what it has: empty fields, ids, tags, consent.

    An email or phone different from the target's own is kept as a secondary identifier (returned
    as `kind:value`), so nothing that identified the customer is lost.
    """
    for name in FILLED_WHEN_EMPTY:
        if name == "organisation_id" and target.kind != "person":
            continue
        if getattr(target, name) is None and incoming.get(name) is not None:
            setattr(target, name, stored_value(name, incoming[name]))
    if incoming.get("strategic") and not target.strategic:
        target.strategic = True
    present = {(e.system, e.id) for e in target.external_ids}
    new_ids = [e for e in external_ids if (e.system, e.id) not in present]
    if new_ids:
        target.external_ids = sorted([*target.external_ids, *new_ids], key=lambda e: (e.system, e.id))
    target.tags = list(dict.fromkeys([*target.tags, *(incoming.get("tags") or [])]))
    target.consent = (incoming.get("consent") or {}) | target.consent
    target.attributes = (incoming.get("attributes") or {}) | target.attributes
    added = []
    for kind, value in (("email", email), ("phone", phone)):
        if value is None or value == getattr(target, kind):
            continue
        if getattr(target, kind) is None:
            setattr(target, kind, value)
        elif await repository.add_secondary_identifier(target.id, kind, value, merged_from):
            added.append(f"{kind}:{value}")
    return added
