"""A customer record's fields as requests give them and the record and audit log keep them.

Pure (no queries): the create, the update, the merge and the bulk import all build and compare
records with these, so an imported customer is stored exactly as one entered by hand.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import Enum
from types import SimpleNamespace
from typing import Any

from pydantic import BaseModel

from contacts.customer_records.models import Customer, CustomerExternalId
from contacts.customers.schemas import CustomerCreate, ExternalId
from contacts.tiers import service as tiering
from contacts.tiers.schemas import TierRules
from crm_shared.db import new_id, utcnow
from crm_shared.http.problems import ProblemError, ValidationFailed
from crm_shared.normalize import InvalidIdentifier, normalize_email, normalize_phone

# A stored customer, or the plain record `build_customer` makes in memory (same attributes), which
# the bulk import inserts with Core and the checks and rules read and set as they would a Customer.
CustomerLike = Customer | SimpleNamespace


def invalid_identifier(field: str, message: str) -> ProblemError:
    return ValidationFailed(field, message, "invalid_identifier")


def normalized_identifiers(email: str | None, phone: str | None, region: str | None) -> tuple[str | None, str | None]:
    try:
        email = normalize_email(email) if email else None
    except InvalidIdentifier as exc:
        raise invalid_identifier("email", str(exc)) from exc
    try:
        phone = normalize_phone(phone, region) if phone else None
    except InvalidIdentifier as exc:
        raise invalid_identifier("phone", str(exc)) from exc
    return email, phone


PROFILE_FIELDS = (
    "region",
    "industry",
    "size",
    "lifecycle_stage",
    "credit_standing",
    "credit_reason",
    "tags",
    "entitlements",
    "consent",
    "attributes",
    "strategic",
    "potential",
    "language",
    "timezone",
    "owner_team",
    "partner",
)

AUDITED_FIELDS = ("kind", "organisation_id", "name", "email", "phone", "tier", "owner", "external_ids", *PROFILE_FIELDS)


def stored_value(field: str, value: object) -> Any:
    """A request value as the record stores it (its type is the field's)."""
    if isinstance(value, Enum):
        return value.value
    if field == "consent" and isinstance(value, BaseModel):
        value = value.model_dump()
    if field == "consent" and isinstance(value, dict):
        return {channel: agreed for channel, agreed in value.items() if agreed is not None}
    if field in ("tags", "entitlements") and isinstance(value, list):
        return list(dict.fromkeys(value))
    return value


def check_credit(customer: CustomerLike) -> None:
    if customer.credit_standing != "good" and not customer.credit_reason:
        raise ValidationFailed("credit_reason", "required when credit_standing is watch or poor", "missing")


def audited_value(customer: CustomerLike, field: str) -> object:
    """A field's value as the audit log keeps it (external ids as `system:id`)."""
    if field == "external_ids":
        return [e.label for e in customer.external_ids]
    return getattr(customer, field)


def external_id_pairs(ids: Iterable[ExternalId | CustomerExternalId | dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((e["system"], e["id"]) if isinstance(e, dict) else (e.system, e.id) for e in ids)


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


RECORD_COLUMNS = tuple(a.key for a in Customer.__mapper__.column_attrs)


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
    values: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)
    values |= {
        "lifecycle_stage": "customer",
        "credit_standing": "good",
        "tags": [],
        "entitlements": [],
        "consent": {},
        "attributes": {},
        "strategic": False,
    }
    values |= {
        field: stored_value(field, value)
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
        "lifecycle_changed_at": now,
    }
    record = SimpleNamespace(**values)
    record.external_ids = [
        SimpleNamespace(system=system, id=ident, label=f"{system}:{ident}")
        for system, ident in external_id_pairs(data.external_ids)
    ]
    tiering.decide_initial_tier(
        rules,
        record,
        given_tier=data.tier if "tier" in data.model_fields_set else None,
        tier_reason=data.tier_reason,
        actor=actor,
    )
    check_credit(record)
    return record


def created_changes(customer: CustomerLike) -> dict[str, Any]:
    """The "created" audit entry's changes: every audited field, from nothing."""
    return {f: {"from": None, "to": audited_value(customer, f)} for f in AUDITED_FIELDS}
