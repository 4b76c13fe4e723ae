"""Customer use cases. Never commits: the request boundary does."""

from __future__ import annotations

import uuid
from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.audit import service as audit
from contacts.customer_records.filters import CustomerFilters
from contacts.customer_records.models import Customer, CustomerExternalId
from contacts.customer_records.repository import CustomerRepository
from contacts.customers.fields import (
    RECORD_COLUMNS,
    audited_value,
    build_customer,
    check_credit,
    created_changes,
    ensure_writable,
    external_id_pairs,
    invalid_identifier,
    normalized_identifiers,
    stored_value,
)
from contacts.customers.schemas import (
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    SearchHit,
    SearchResults,
)
from contacts.events.publishers import publish_customer_created, publish_customer_updated
from contacts.lifecycle import service as lifecycle
from contacts.tiers import service as tiering
from crm_shared import access
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound, ProblemError, ValidationFailed
from crm_shared.normalize import InvalidIdentifier, read_caller_phone


async def _check_membership(
    repository: CustomerRepository, person_id: uuid.UUID | None, organisation_id: uuid.UUID, name: str
) -> None:
    """A person joins an existing organisation, and not as a second record of someone already there."""
    organisation = await repository.get(organisation_id)
    if organisation is None or organisation.kind != "organisation" or organisation.id == person_id:
        raise ValidationFailed("organisation_id", f"{organisation_id} is not an organisation", "unknown_organisation")
    if organisation.status == "merged":
        raise ValidationFailed(
            "organisation_id", f"{organisation_id} was merged into {organisation.merged_into}", "merged_organisation"
        )
    if organisation.status == "erased":
        raise ValidationFailed("organisation_id", f"{organisation_id} was erased", "erased_organisation")
    namesakes = [c for c in await repository.people_named(organisation_id, name) if c.id != person_id]
    if namesakes:
        raise Conflict(
            "A person of that name already belongs to this organisation.",
            candidates=[str(c.id) for c in namesakes],
        )


async def check_organisation(repository: CustomerRepository, organisation_id: uuid.UUID) -> None:
    organisation = await repository.get(organisation_id)
    if organisation is None or organisation.kind != "organisation":
        raise ValidationFailed("organisation_id", f"{organisation_id} is not an organisation", "unknown_organisation")
    if organisation.status != "active":
        raise ValidationFailed(
            "organisation_id", f"{organisation_id} was {organisation.status}", f"{organisation.status}_organisation"
        )


def for_callers_reach(data: CustomerCreate) -> CustomerCreate:
    """A caller who sees only some customers creates one they will see: without an owner or team
    it is theirs, a partner's is assigned to their partner; one they name for someone else is a 403."""
    reach = access.current()
    if reach.every_customer:
        return data
    updates: dict[str, str] = {}
    if data.owner is None and data.owner_team is None and reach.subject is not None:
        updates["owner"] = reach.subject
    if data.partner is None and reach.partner is not None:
        updates["partner"] = reach.partner
    data = data.model_copy(update=updates)
    if not reach.covers(data.owner, data.owner_team, data.partner):
        raise ProblemError(
            403,
            "Forbidden",
            "You may create customers that you, your team or your partner organisation own: "
            "leave owner, owner_team and partner out, or name yourself, your team or your partner.",
            type="forbidden",
        )
    return data


def check_reassignment(values: dict[str, object]) -> None:
    """Assigning a customer to a partner is the brand's decision, not one of a restricted caller."""
    if "partner" in values and not access.current().every_customer:
        raise ProblemError(
            403, "Forbidden", "Only staff who see every customer assign customers to partners.", type="forbidden"
        )


def check_lookup_allowed(*looked_up_by: str | None) -> None:
    """A pseudonymised reach cannot look customers up by name, email, phone or external id: the
    answer would tie a pseudonym to the person."""
    if access.current().pseudonymised and any(looked_up_by):
        raise ProblemError(
            403,
            "Forbidden",
            "An analyst sees pseudonymised records: look customers up by segment (tier, owner, region, "
            "tag, ...), not by name, email, phone or external id.",
            type="forbidden",
        )


DUPLICATE_DETAIL = "A customer with this email, phone or external id already exists."


async def create_customer(
    session: AsyncSession, data: CustomerCreate, *, actor: str, phone_region: str | None
) -> Customer:
    email, phone = normalized_identifiers(data.email, data.phone, phone_region)
    repository = CustomerRepository(session)
    duplicates = await repository.find_by_identifiers(
        email=email, phone=phone, external_ids=external_id_pairs(data.external_ids)
    )
    if duplicates:
        raise Conflict(DUPLICATE_DETAIL, candidates=[str(c.id) for c in duplicates])
    if data.organisation_id is not None:
        await _check_membership(repository, None, data.organisation_id, data.name)
    rules = (await tiering.current_rules(session)).rules
    record = build_customer(data, email=email, phone=phone, rules=rules, actor=actor)
    customer = Customer(**{c: getattr(record, c) for c in RECORD_COLUMNS})
    customer.external_ids = [CustomerExternalId(system=e.system, id=e.id) for e in record.external_ids]
    customer = await repository.add(customer)
    audit.record(session, customer.id, actor=actor, action="created", changes=created_changes(customer))
    await publish_customer_created(session, customer)
    return customer


async def update_customer(
    session: AsyncSession,
    customer_id: uuid.UUID,
    patch: CustomerUpdate,
    *,
    expected_version: int | None,
    actor: str,
    phone_region: str | None,
) -> Customer:
    """Applies a merge patch if the record is still at `expected_version` (None: any version)."""
    repository = CustomerRepository(session)
    customer = await repository.get_for_update(customer_id)
    if customer is None:
        raise NotFound("Customer", customer_id)
    if customer.status == "merged":
        survivor = await repository.final_survivor(customer.id)
        ensure_writable(customer, survivor.id if survivor else None)
    ensure_writable(customer)
    if expected_version is not None and customer.version != expected_version:
        raise ProblemError(
            412,
            "Precondition failed",
            f"The customer is at version {customer.version}, not {expected_version}: "
            "read it again, then apply your change to what it is now.",
            type="version-mismatch",
            current_version=customer.version,
        )
    values = {
        field: stored_value(field, value) for field, value in patch.model_dump(include=patch.model_fields_set).items()
    }
    check_reassignment(values)
    tier_reason = tiering.take_tier_reason(customer, values)
    lifecycle_reason = values.pop("lifecycle_reason", None)
    if lifecycle_reason is not None and "lifecycle_stage" not in values:
        raise ValidationFailed("lifecycle_reason", "give it together with lifecycle_stage", "unexpected")
    if {"email", "phone"} & values.keys():
        email, phone = normalized_identifiers(values.get("email"), values.get("phone"), phone_region)
        values.update({k: v for k, v in (("email", email), ("phone", phone)) if k in values})
        others = [
            c
            for c in await repository.find_by_identifiers(email=values.get("email"), phone=values.get("phone"))
            if c.id != customer.id
        ]
        if others:
            raise Conflict("Another customer already has this email or phone.", candidates=[str(c.id) for c in others])
    if "organisation_id" in values and values["organisation_id"] is not None and customer.kind != "person":
        raise ValidationFailed("organisation_id", "only a person belongs to an organisation", "not_a_person")
    organisation_id = values.get("organisation_id", customer.organisation_id)
    if organisation_id is not None and (
        organisation_id != customer.organisation_id or values.get("name", customer.name) != customer.name
    ):
        await _check_membership(repository, customer.id, organisation_id, values.get("name", customer.name))
    new_ids = external_id_pairs(values.pop("external_ids")) if "external_ids" in values else None
    ids_changed = new_ids is not None and new_ids != external_id_pairs(customer.external_ids)
    if ids_changed:
        assert new_ids is not None  # ids_changed says so
        others = [
            c
            for c in await repository.find_by_identifiers(email=None, phone=None, external_ids=new_ids)
            if c.id != customer.id
        ]
        if others:
            raise Conflict("Another customer already has this external id.", candidates=[str(c.id) for c in others])
    changed = sorted(
        [k for k, v in values.items() if getattr(customer, k) != v] + (["external_ids"] if ids_changed else [])
    )
    if not changed:
        return customer  # nothing new: same version, no event
    before = {f: audited_value(customer, f) for f in changed}
    for field in changed:
        if field == "external_ids":
            _replace_external_ids(customer, new_ids or [])
        else:
            setattr(customer, field, values[field])
    check_credit(customer)
    audit.record(
        session,
        customer.id,
        actor=actor,
        action="updated",
        changes={f: {"from": before[f], "to": audited_value(customer, f)} for f in changed},
    )
    customer.version += 1
    customer.updated_at = utcnow()
    await repository.flush()
    await publish_customer_updated(session, customer, changed)
    if "lifecycle_stage" in changed:
        lifecycle.set_by_hand(customer, lifecycle_reason, actor)
    await tiering.customer_changed(session, customer, before, changed, actor=actor, tier_reason=tier_reason)
    return customer


def _replace_external_ids(customer: Customer, pairs: list[tuple[str, str]]) -> None:
    """Keeps the rows of pairs that stay (re-inserting a primary key in one flush would clash)."""
    kept = [e for e in customer.external_ids if (e.system, e.id) in pairs]
    present = {(e.system, e.id) for e in kept}
    added = [CustomerExternalId(system=s, id=i) for s, i in pairs if (s, i) not in present]
    customer.external_ids = sorted(kept + added, key=lambda e: (e.system, e.id))


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    """The record whatever its status (a merged record's own audit log stays readable)."""
    customer = await CustomerRepository(session).get(customer_id)
    if customer is None:
        raise NotFound("Customer", customer_id)
    return customer


async def final_survivor(session: AsyncSession, customer: Customer) -> Customer:
    """Where a merged record's redirect leads: the survivor of the last merge in the chain."""
    survivor = await CustomerRepository(session).final_survivor(customer.id)
    return survivor or customer


async def search_customers(
    session: AsyncSession, text: str, *, kind: str | None, organisation_id: uuid.UUID | None, limit: int
) -> SearchResults:
    check_lookup_allowed(text)
    text = " ".join(text.split())
    if not any(ch.isalnum() for ch in text):
        raise ValidationFailed("q", "give at least one letter or digit to search for", "empty_search")
    hits = await CustomerRepository(session).search(text, kind=kind, organisation_id=organisation_id, limit=limit)
    return SearchResults(
        items=[SearchHit(score=min(score, 1.0), customer=CustomerRead.model_validate(c)) for c, score in hits]
    )


async def _holders_of_phone(repository: CustomerRepository, value: str, region: str | None) -> list[uuid.UUID]:
    """Who answers to the number as read in the default region; if nobody does and it was written
    without its country (13800138000 for +86 138 0013 8000), who holds it as a national number."""
    try:
        phone = read_caller_phone(value, region)
    except InvalidIdentifier as exc:
        raise invalid_identifier("phone", str(exc)) from exc
    holders = await repository.holders_of_phone(phone.e164) if phone.e164 else []
    if not holders and phone.national:
        holders = await repository.holders_of_national_number(phone.national)
    return holders


async def list_customers(
    session: AsyncSession, filters: CustomerFilters, *, limit: int, cursor: str | None, phone_region: str | None
) -> CustomerPage:
    check_lookup_allowed(filters.name, filters.email, filters.phone, filters.external_id)
    after = decode_time_cursor(cursor)
    repository = CustomerRepository(session)
    among = None
    if filters.phone:
        among = await _holders_of_phone(repository, filters.phone, phone_region)
        filters = replace(filters, phone=None)
    email, _ = normalized_identifiers(filters.email, None, phone_region)
    external_id = None
    if filters.external_id is not None:
        system, _, ident = filters.external_id.partition(":")
        if not system.strip() or not ident.strip():
            raise invalid_identifier("external_id", "give it as <system>:<id>, for example callcentre:C-000142")
        external_id = (system.strip(), ident.strip())
    normalised = replace(filters, email=email, tag=filters.tag.strip().lower() if filters.tag else None)
    rows = await repository.list(normalised, external_id=external_id, limit=limit + 1, after=after, among=among)
    next_cursor = encode_time_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    return CustomerPage(items=[CustomerRead.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor)
