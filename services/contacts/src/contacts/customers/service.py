"""Customer use cases. Never commits: the request boundary does."""

from __future__ import annotations

import uuid
from dataclasses import replace
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.audit import service as audit
from contacts.customers.models import Customer, CustomerExternalId
from contacts.customers.repository import CustomerRepository
from contacts.customers.schemas import (
    CustomerCreate,
    CustomerFilters,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    ExternalId,
)
from contacts.events.publishers import publish_customer_created, publish_customer_updated
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound, ProblemError, ValidationFailed
from crm_shared.normalize import InvalidIdentifier, normalize_email, normalize_phone


def _invalid(field: str, message: str) -> ProblemError:
    return ValidationFailed(field, message, "invalid_identifier")


def normalized_identifiers(email: str | None, phone: str | None, region: str | None) -> tuple[str | None, str | None]:
    try:
        email = normalize_email(email) if email else None
    except InvalidIdentifier as exc:
        raise _invalid("email", str(exc)) from exc
    try:
        phone = normalize_phone(phone, region) if phone else None
    except InvalidIdentifier as exc:
        raise _invalid("phone", str(exc)) from exc
    return email, phone


PROFILE_FIELDS = (
    "region",
    "industry",
    "size",
    "lifecycle_stage",
    "credit_standing",
    "credit_reason",
    "tags",
    "consent",
    "attributes",
)
AUDITED_FIELDS = ("kind", "organisation_id", "name", "email", "phone", "tier", "owner", "external_ids", *PROFILE_FIELDS)


async def _check_membership(
    repository: CustomerRepository, person_id: uuid.UUID | None, organisation_id: uuid.UUID, name: str
) -> None:
    """A person joins an existing organisation, and not as a second record of someone already there."""
    organisation = await repository.get(organisation_id)
    if organisation is None or organisation.kind != "organisation" or organisation.id == person_id:
        raise ValidationFailed("organisation_id", f"{organisation_id} is not an organisation", "unknown_organisation")
    namesakes = [c for c in await repository.people_named(organisation_id, name) if c.id != person_id]
    if namesakes:
        raise Conflict(
            "A person of that name already belongs to this organisation.",
            candidates=[str(c.id) for c in namesakes],
        )


def _stored(field: str, value: object) -> object:
    """A request value as the record stores it."""
    if isinstance(value, Enum):
        return value.value
    if field == "consent" and isinstance(value, dict):
        return {channel: agreed for channel, agreed in value.items() if agreed is not None}
    if field == "tags" and isinstance(value, list):
        return list(dict.fromkeys(value))
    return value


def _check_credit(customer: Customer) -> None:
    if customer.credit_standing != "good" and not customer.credit_reason:
        raise ValidationFailed("credit_reason", "required when credit_standing is watch or poor", "missing")


def _audited(customer: Customer, field: str) -> object:
    """A field's value as the audit log keeps it (external ids as `system:id`)."""
    if field == "external_ids":
        return [e.label for e in customer.external_ids]
    return getattr(customer, field)


def _pairs(ids: list[ExternalId] | list[dict]) -> list[tuple[str, str]]:
    return sorted((e["system"], e["id"]) if isinstance(e, dict) else (e.system, e.id) for e in ids)


async def create_customer(
    session: AsyncSession, data: CustomerCreate, *, actor: str, phone_region: str | None
) -> Customer:
    email, phone = normalized_identifiers(data.email, data.phone, phone_region)
    repository = CustomerRepository(session)
    duplicates = await repository.find_by_identifiers(email=email, phone=phone, external_ids=_pairs(data.external_ids))
    if duplicates:
        raise Conflict(
            "A customer with this email, phone or external id already exists.",
            candidates=[str(c.id) for c in duplicates],
        )
    if data.organisation_id is not None:
        await _check_membership(repository, None, data.organisation_id, data.name)
    now = utcnow()
    profile = {"lifecycle_stage": "customer", "credit_standing": "good", "tags": [], "consent": {}, "attributes": {}}
    profile |= {
        field: _stored(field, value)
        for field, value in data.model_dump(include=set(PROFILE_FIELDS)).items()
        if value is not None
    }
    customer = Customer(
        kind=data.kind.value,
        organisation_id=data.organisation_id,
        name=data.name,
        email=email,
        phone=phone,
        tier=data.tier.value,
        owner=data.owner,
        external_ids=[CustomerExternalId(system=system, id=ident) for system, ident in _pairs(data.external_ids)],
        **profile,
        version=1,
        created_at=now,
        updated_at=now,
    )
    _check_credit(customer)
    customer = await repository.add(customer)
    audit.record(
        session,
        customer.id,
        actor=actor,
        action="created",
        changes={f: {"from": None, "to": _audited(customer, f)} for f in AUDITED_FIELDS},
    )
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
    if expected_version is not None and customer.version != expected_version:
        raise ProblemError(
            412,
            "Precondition failed",
            f"The customer is at version {customer.version}, not {expected_version}: "
            "read it again, then apply your change to what it is now.",
            type="version-mismatch",
            current_version=customer.version,
        )
    values = {field: _stored(field, value) for field, value in patch.model_dump(include=patch.model_fields_set).items()}
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
    new_ids = _pairs(values.pop("external_ids")) if "external_ids" in values else None
    ids_changed = new_ids is not None and new_ids != _pairs(customer.external_ids)
    if ids_changed:
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
    before = {f: _audited(customer, f) for f in changed}
    for field in changed:
        if field == "external_ids":
            _replace_external_ids(customer, new_ids or [])
        else:
            setattr(customer, field, values[field])
    _check_credit(customer)
    audit.record(
        session,
        customer.id,
        actor=actor,
        action="updated",
        changes={f: {"from": before[f], "to": _audited(customer, f)} for f in changed},
    )
    customer.version += 1
    customer.updated_at = utcnow()
    await repository.flush()
    await publish_customer_updated(session, customer, changed)
    return customer


def _replace_external_ids(customer: Customer, pairs: list[tuple[str, str]]) -> None:
    """Keeps the rows of pairs that stay (re-inserting a primary key in one flush would clash)."""
    kept = [e for e in customer.external_ids if (e.system, e.id) in pairs]
    present = {(e.system, e.id) for e in kept}
    added = [CustomerExternalId(system=s, id=i) for s, i in pairs if (s, i) not in present]
    customer.external_ids = sorted(kept + added, key=lambda e: (e.system, e.id))


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    customer = await CustomerRepository(session).get(customer_id)
    if customer is None:
        raise NotFound("Customer", customer_id)
    return customer


async def list_customers(
    session: AsyncSession, filters: CustomerFilters, *, limit: int, cursor: str | None, phone_region: str | None
) -> CustomerPage:
    after = decode_time_cursor(cursor)
    email, phone = normalized_identifiers(filters.email, filters.phone, phone_region)
    external_id = None
    if filters.external_id is not None:
        system, _, ident = filters.external_id.partition(":")
        if not system.strip() or not ident.strip():
            raise _invalid("external_id", "give it as <system>:<id>, for example callcentre:C-000142")
        external_id = (system.strip(), ident.strip())
    normalised = replace(filters, email=email, phone=phone, tag=filters.tag.strip().lower() if filters.tag else None)
    rows = await CustomerRepository(session).list(normalised, external_id=external_id, limit=limit + 1, after=after)
    next_cursor = encode_time_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    return CustomerPage(items=[CustomerRead.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor)
