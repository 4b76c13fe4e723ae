"""Customer use cases. Never commits: the request boundary does."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, replace
from enum import Enum
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.audit import service as audit
from contacts.customer_records.filters import CustomerFilters
from contacts.customer_records.models import Customer, CustomerExternalId
from contacts.customer_records.repository import CustomerRepository
from contacts.customers.schemas import (
    CustomerCreate,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    DuplicateCandidate,
    ExternalId,
    OnDuplicate,
    SearchHit,
    SearchResults,
)
from contacts.events.publishers import publish_customer_created, publish_customer_updated
from contacts.tiers import service as tiering
from contacts.tiers.schemas import TierRules
from crm_shared.db import new_id, utcnow
from crm_shared.http.pagination import decode_time_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound, ProblemError, ValidationFailed
from crm_shared.normalize import InvalidIdentifier, normalize_email, normalize_phone, read_caller_phone


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
    "strategic",
    "potential",
    "language",
    "timezone",
)
AUDITED_FIELDS = ("kind", "organisation_id", "name", "email", "phone", "tier", "owner", "external_ids", *PROFILE_FIELDS)


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


def _stored(field: str, value: object) -> object:
    """A request value as the record stores it."""
    if isinstance(value, Enum):
        return value.value
    if field == "consent" and isinstance(value, BaseModel):
        value = value.model_dump()
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
        return DuplicateCandidate(
            id=self.customer.id, name=self.customer.name, matched=self.matched, similarity=self.similarity
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
    pairs = _pairs(data.external_ids)
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
    email, phone = normalized_identifiers(data.email, data.phone, phone_region)
    repository = CustomerRepository(session)
    if data.organisation_id is not None:
        await _check_organisation(repository, data.organisation_id)
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
    assert target is not None
    before = {f: _audited(target, f) for f in AUDITED_FIELDS}
    moved = [CustomerExternalId(system=s, id=i) for s, i in _pairs(data.external_ids)]
    incoming = data.model_dump(include=set(FILLED_WHEN_EMPTY))
    incoming["strategic"] = data.strategic
    incoming |= {f: _stored(f, getattr(data, f)) for f in ("tags", "consent", "attributes")}
    added = await absorb(repository, target, incoming, email=email, phone=phone, external_ids=moved, merged_from=None)
    changed = [f for f in AUDITED_FIELDS if _audited(target, f) != before[f]]
    if changed or added:
        changes = {f: {"from": before[f], "to": _audited(target, f)} for f in changed}
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
            setattr(target, name, _stored(name, incoming[name]))
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


def ensure_writable(customer: Customer, survivor_id: uuid.UUID | None = None) -> None:
    """Merged records are redirects and erased ones tombstones: neither takes changes."""
    if customer.status == "merged":
        survivor = survivor_id or customer.merged_into
        raise ProblemError(
            409,
            "Customer merged",
            f"Customer {customer.id} was merged into {survivor}: change that record instead.",
            type="customer-merged",
            survivor_id=str(survivor),
        )
    if customer.status == "erased":
        raise ProblemError(
            409,
            "Customer erased",
            f"Customer {customer.id} was erased on request; its record is a tombstone and takes no changes.",
            type="customer-erased",
        )


async def _check_organisation(repository: CustomerRepository, organisation_id: uuid.UUID) -> None:
    organisation = await repository.get(organisation_id)
    if organisation is None or organisation.kind != "organisation":
        raise ValidationFailed("organisation_id", f"{organisation_id} is not an organisation", "unknown_organisation")
    if organisation.status != "active":
        raise ValidationFailed(
            "organisation_id", f"{organisation_id} was {organisation.status}", f"{organisation.status}_organisation"
        )


_COLUMNS = tuple(a.key for a in Customer.__mapper__.column_attrs)


def build_customer(
    data: CustomerCreate, *, email: str | None, phone: str | None, rules: TierRules, actor: str
) -> SimpleNamespace:
    """The record a create stores (identifiers already normalised), tier decided and credit checked.

    Every column as a plain attribute (id too) plus `external_ids` (`system`, `id`, `label`):
    `create_customer` makes the ORM record of it, the bulk import inserts many at once with
    Core. Not an ORM instance because its per-attribute bookkeeping cost more than the rest of
    an imported row's work; the rules and checks read and set it as they would a Customer.
    """
    now = utcnow()
    values: dict[str, Any] = dict.fromkeys(_COLUMNS)
    values |= {
        "lifecycle_stage": "customer",
        "credit_standing": "good",
        "tags": [],
        "consent": {},
        "attributes": {},
        "strategic": False,
    }
    values |= {
        field: _stored(field, value)
        for field, value in data.model_dump(include=set(PROFILE_FIELDS)).items()
        if value is not None
    }
    values |= {
        "id": new_id(),
        "kind": data.kind.value,
        "organisation_id": data.organisation_id,
        "name": data.name,
        "email": email,
        "phone": phone,
        "tier": data.tier.value,
        "owner": data.owner,
        "version": 1,
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    record = SimpleNamespace(**values)
    record.external_ids = [
        SimpleNamespace(system=system, id=ident, label=f"{system}:{ident}")
        for system, ident in _pairs(data.external_ids)
    ]
    tiering.decide_initial_tier(
        rules,
        record,
        given_tier=data.tier if "tier" in data.model_fields_set else None,
        tier_reason=data.tier_reason,
        actor=actor,
    )
    _check_credit(record)
    return record


def created_changes(customer: Customer) -> dict[str, Any]:
    """The "created" audit entry's changes: every audited field, from nothing."""
    return {f: {"from": None, "to": _audited(customer, f)} for f in AUDITED_FIELDS}


DUPLICATE_DETAIL = "A customer with this email, phone or external id already exists."


async def create_customer(
    session: AsyncSession, data: CustomerCreate, *, actor: str, phone_region: str | None
) -> Customer:
    email, phone = normalized_identifiers(data.email, data.phone, phone_region)
    repository = CustomerRepository(session)
    duplicates = await repository.find_by_identifiers(email=email, phone=phone, external_ids=_pairs(data.external_ids))
    if duplicates:
        raise Conflict(DUPLICATE_DETAIL, candidates=[str(c.id) for c in duplicates])
    if data.organisation_id is not None:
        await _check_membership(repository, None, data.organisation_id, data.name)
    rules = (await tiering.current_rules(session)).rules
    record = build_customer(data, email=email, phone=phone, rules=rules, actor=actor)
    customer = Customer(**{c: getattr(record, c) for c in _COLUMNS})
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
    values = {field: _stored(field, value) for field, value in patch.model_dump(include=patch.model_fields_set).items()}
    tier_reason = tiering.take_tier_reason(customer, values)
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
        raise _invalid("phone", str(exc)) from exc
    holders = await repository.holders_of_phone(phone.e164) if phone.e164 else []
    if not holders and phone.national:
        holders = await repository.holders_of_national_number(phone.national)
    return holders


async def list_customers(
    session: AsyncSession, filters: CustomerFilters, *, limit: int, cursor: str | None, phone_region: str | None
) -> CustomerPage:
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
            raise _invalid("external_id", "give it as <system>:<id>, for example callcentre:C-000142")
        external_id = (system.strip(), ident.strip())
    normalised = replace(filters, email=email, tag=filters.tag.strip().lower() if filters.tag else None)
    rows = await repository.list(normalised, external_id=external_id, limit=limit + 1, after=after, among=among)
    next_cursor = encode_time_cursor(rows[limit - 1].created_at, rows[limit - 1].id) if len(rows) > limit else None
    return CustomerPage(items=[CustomerRead.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor)
