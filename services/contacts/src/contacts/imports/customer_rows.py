"""Applying a batch of staged customer rows. Never commits: the runner's batch does.

Rows go through the customer service's own create and update, so an imported customer gets the
same checks, audit entries and events as one entered by hand.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from enum import Enum
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.audit import service as audit
from contacts.customer_records.repository import CustomerRepository
from contacts.customers import duplicates as duplicate_detection
from contacts.customers import fields as customer_fields
from contacts.customers import service as customers
from contacts.customers.fields import CustomerLike
from contacts.customers.schemas import CustomerUpdate
from contacts.events.publishers import customer_created_event
from contacts.imports.models import ImportRow
from contacts.imports.repository import ImportRepository
from contacts.imports.row_parsing import (
    BatchOutcome,
    CustomerRow,
    RowRejected,
    parse_customer_row,
    problem_errors,
    row_error,
    row_errors,
)
from contacts.tiers import service as tiering
from contacts.tiers.schemas import TierRules
from crm_shared.contracts import Topics
from crm_shared.http.problems import Conflict, ProblemError
from crm_shared.messaging.consumer import is_transient
from crm_shared.messaging.outbox import add_events

log = logging.getLogger(__name__)

_PROFILE_SCALARS = ("name", "email", "phone", "tier", "owner", *customer_fields.PROFILE_FIELDS)


def _patch(
    customer: CustomerLike, row: CustomerRow, organisation_id: uuid.UUID | None, phone_region: str | None
) -> dict:
    """The row's fields (only those it gives) that differ from the record, as a merge patch."""
    given = row.data.model_fields_set
    values = {
        k: v.value if isinstance(v, Enum) else v
        for k, v in row.data.model_dump(include=given & set(_PROFILE_SCALARS)).items()
    }
    if {"email", "phone"} & values.keys():
        email, phone = customer_fields.normalized_identifiers(values.get("email"), values.get("phone"), phone_region)
        values.update({k: v for k, v in (("email", email), ("phone", phone)) if k in values})
    if "tags" in values:
        values["tags"] = list(dict.fromkeys(values["tags"]))
    if isinstance(values.get("consent"), dict):
        values["consent"] = {k: v for k, v in values["consent"].items() if v is not None}
    patch = {k: v for k, v in values.items() if getattr(customer, k) != v}
    if "tier" in patch and row.data.tier_reason is not None:
        patch["tier_reason"] = row.data.tier_reason  # a tier moved by hand must say why (tier rules)
    if "kind" in given and row.data.kind.value != customer.kind:
        raise RowRejected(
            [row_error("kind", f"the customer is an {customer.kind}; an import cannot change that", "immutable")]
        )
    if row.organisation is not None and organisation_id != customer.organisation_id:
        patch["organisation_id"] = organisation_id
    have = {(e.system, e.id) for e in customer.external_ids}
    if set(row.external_ids) - have:  # adds ids, never removes one another system relies on
        patch["external_ids"] = [{"system": s, "id": i} for s, i in sorted(have | set(row.external_ids))]
    return patch


def _owner(row: CustomerRow, owners: dict[tuple[str, str], CustomerLike]) -> CustomerLike | None:
    found = {owners[p].id: owners[p] for p in row.external_ids if p in owners}
    if len(found) > 1:
        raise RowRejected(
            [
                row_error(
                    "external_id",
                    "these external ids belong to different customers: " + ", ".join(map(str, sorted(found))),
                    "ambiguous",
                    candidates=sorted(map(str, found)),
                )
            ]
        )
    customer = next(iter(found.values()), None)
    if customer is not None and getattr(customer, "status", "active") != "active":
        raise RowRejected(
            [
                row_error(
                    "external_id",
                    f"customer {customer.id} is {customer.status}",
                    "not_active",
                    candidates=[str(customer.id)],
                )
            ]
        )
    return customer


def _organisation_id(row: CustomerRow, owners: dict[tuple[str, str], CustomerLike]) -> uuid.UUID | None:
    if row.organisation is None:
        return None
    organisation = owners.get(row.organisation)
    if organisation is None:
        raise RowRejected(
            [
                row_error(
                    "organisation_external_id",
                    f"no customer has {row.organisation[0]}:{row.organisation[1]} (an organisation's row comes first)",
                    "unknown_organisation",
                )
            ]
        )
    return organisation.id


def _duplicate_errors(detail: str, candidates: list[str], fields: list[str]) -> list[dict[str, Any]]:
    """A 409 as the report shows it: the identifiers the existing records hold as their own, and those records."""
    message = f"{detail} Existing: {', '.join(candidates)}." if candidates else detail
    return [row_error(f, message, "duplicate", candidates=candidates) for f in fields or ["row"]]


async def _conflict_errors(
    session: AsyncSession, exc: ProblemError, row: CustomerRow, phone_region: str | None
) -> list:
    """Which identifier a 409 was about, so the report names the field and the existing records."""
    candidates = [str(c) for c in exc.extensions.get("candidates", [])]
    email, phone = customer_fields.normalized_identifiers(row.data.email, row.data.phone, phone_region)
    holders = await CustomerRepository(session).find_by_identifiers(email=email, phone=phone)
    fields = [
        f
        for f, value in (("email", email), ("phone", phone))
        if value and any(getattr(h, f) == value and str(h.id) in candidates for h in holders)
    ]
    named = any("name" in d.get("matched", []) for d in exc.extensions.get("duplicates", []))
    return _duplicate_errors(str(exc.detail), candidates, fields or (["name"] if named else []))


async def _reload_owner(session: AsyncSession, item: CustomerRow, owners: dict[tuple[str, str], CustomerLike]) -> None:
    """A rolled-back savepoint expired what it changed: read the record again for the rows after."""
    for pair in item.external_ids:
        owners.pop(pair, None)
    owners.update(await ImportRepository(session).owners_of(item.external_ids))


@dataclass(slots=True)
class _NewRow:
    row: ImportRow
    item: CustomerRow
    email: str | None  # normalised
    phone: str | None


class _CustomerBatch:
    """Applies one batch of parsed rows, in file order, as if each ran alone.

    Rows of new customers (no known external id, no organisation) are held back and written
    together: their duplicates are found with one query for the whole run of them, the records
    built in memory (`customer_fields.build_customer`, tier rules read once per batch) and stored with a
    few multi-row INSERTs: customers, external ids, "created" audit entries, outbox events. That
    is what makes an import fast; per row, `create_customer` costs a duplicate query, a rules
    query, an ORM flush, an audit and an outbox INSERT and a SAVEPOINT.

    Every other row (an update, a person in an organisation, or a row whose external id a held
    row claims) first writes the held rows, then runs alone in a SAVEPOINT through the customer
    service, so it sees the records before it exactly as a row-by-row run would.
    """

    def __init__(self, session: AsyncSession, *, actor: str, phone_region: str | None) -> None:
        self.session = session
        self.actor = actor
        self.phone_region = phone_region
        self.outcome = BatchOutcome()
        # Stored records, and the records this batch built in memory (`write_held`).
        self.owners: dict[tuple[str, str], CustomerLike] = {}
        self.held: list[_NewRow] = []
        self.claimed: set[tuple[str, str]] = set()  # the held rows' external ids
        self.rules: TierRules | None = None

    def reject(self, row: ImportRow, errors: list[dict[str, Any]], label: str | None) -> None:
        self.outcome.errors.append(
            {"row_number": row.row_number, "line": row.line, "external_id": label, "errors": errors}
        )

    async def apply(self, parsed: list[tuple[ImportRow, CustomerRow]]) -> BatchOutcome:
        wanted = [p for _, item in parsed for p in item.external_ids] + [
            item.organisation for _, item in parsed if item.organisation
        ]
        self.owners.update(await ImportRepository(self.session).owners_of(wanted))
        for row, item in parsed:
            pairs = item.external_ids
            if item.organisation is None and not any(p in self.owners or p in self.claimed for p in pairs):
                try:
                    email, phone = customer_fields.normalized_identifiers(
                        item.data.email, item.data.phone, self.phone_region
                    )
                except ProblemError as exc:
                    self.reject(row, problem_errors(exc), item.label)
                    continue
                self.held.append(_NewRow(row, item, email, phone))
                self.claimed.update(pairs)
                continue
            await self.write_held()
            await self.apply_alone(row, item)
        await self.write_held()
        return self.outcome

    async def write_held(self) -> None:
        """The held new customers with one duplicate query and a few multi-row INSERTs.

        A duplicate email or phone (in the database, or an earlier row of the run) is that row's
        error, as `create_customer`'s 409 would be. If an INSERT still hits a unique index (a
        customer created through the API meanwhile took an identifier), the run is applied row by
        row instead, each in its own SAVEPOINT: the outcome is what that path decides.
        """
        held, self.held = self.held, []
        self.claimed.clear()
        if not held:
            return
        if self.rules is None:
            self.rules = (await tiering.current_rules(self.session)).rules
        holders = await ImportRepository(self.session).identifier_holders(
            [h.email for h in held if h.email], [h.phone for h in held if h.phone]
        )
        created: list[tuple[_NewRow, SimpleNamespace]] = []
        rejected: list[tuple[_NewRow, list[dict[str, Any]]]] = []
        for new in held:
            identifiers = [(kind, value) for kind, value in (("email", new.email), ("phone", new.phone)) if value]
            found: dict[uuid.UUID, set[str]] = {}
            for kind, value in identifiers:
                for customer_id, own in holders.get((kind, value), {}).items():
                    found.setdefault(customer_id, set()).update([kind] if own else [])
            if found:
                fields = [kind for kind, _ in identifiers if any(kind in f for f in found.values())]
                rejected.append(
                    (new, _duplicate_errors(customers.DUPLICATE_DETAIL, [str(c) for c in sorted(found)], fields))
                )
                continue
            try:
                customer = customer_fields.build_customer(
                    new.item.data, email=new.email, phone=new.phone, rules=self.rules, actor=self.actor
                )
            except (ProblemError, ValidationError) as exc:
                rejected.append((new, row_errors(exc)))
                continue
            created.append((new, customer))
            for identifier in identifiers:
                holders[identifier] = {customer.id: True}
        outbox = self.session.info.setdefault("outbox", [])
        staged_events = len(outbox)
        try:
            async with self.session.begin_nested():
                await self._insert([customer for _, customer in created])
        except IntegrityError:
            del outbox[staged_events:]
            log.info("import: an identifier was taken meanwhile, applying the rows one by one")
            for new in held:
                await self.apply_alone(new.row, new.item)
            return
        for new, errors in rejected:
            self.reject(new.row, errors, new.item.label)
        for new, customer in created:
            self.owners.update(dict.fromkeys(new.item.external_ids, customer))
        self.outcome.created += len(created)

    async def _insert(self, records: list[SimpleNamespace]) -> None:
        if not records:
            return
        audit_entries = [
            audit.entry_values(c.id, actor=self.actor, action="created", changes=customer_fields.created_changes(c))
            for c in records
        ]
        await ImportRepository(self.session).insert_customers(records, audit_entries)
        await add_events(self.session, [customer_created_event(c) for c in records], Topics.contacts)

    async def apply_alone(self, row: ImportRow, item: CustomerRow) -> None:
        """One row in its own SAVEPOINT through the customer service: a failing row rolls back alone."""
        session, owners, outcome = self.session, self.owners, self.outcome
        outbox = session.info.setdefault("outbox", [])
        staged_events = len(outbox)
        try:
            existing = _owner(item, owners)
            organisation_id = _organisation_id(item, owners)
            if existing is not None:
                patch = _patch(existing, item, organisation_id, self.phone_region)
                if not patch:
                    outcome.unchanged += 1
                    return
                version = existing.version
                async with session.begin_nested():
                    customer = await customers.update_customer(
                        session,
                        existing.id,
                        CustomerUpdate.model_validate(patch),
                        expected_version=None,
                        actor=self.actor,
                        phone_region=self.phone_region,
                    )
                if customer.version != version:
                    outcome.updated += 1
                else:
                    outcome.unchanged += 1
            else:
                data = item.data
                if organisation_id is not None:
                    data = data.model_copy(update={"organisation_id": organisation_id})
                    # As on the API: a person whose name is close to one already in the
                    # organisation is a duplicate to resolve, not a second record.
                    if duplicates := await duplicate_detection.find_duplicates(session, data, self.phone_region):
                        raise duplicate_detection.duplicate_conflict(
                            duplicates, "A customer like this one already exists in the organisation."
                        )
                async with session.begin_nested():
                    customer = await customers.create_customer(
                        session, data, actor=self.actor, phone_region=self.phone_region
                    )
                outcome.created += 1
            for pair in item.external_ids:
                owners[pair] = customer
        except RowRejected as exc:
            self.reject(row, exc.errors, item.label)
        except (ProblemError, ValidationError) as exc:
            del outbox[staged_events:]  # the savepoint took the outbox rows back: publish none of them
            await _reload_owner(session, item, owners)
            if isinstance(exc, Conflict) and exc.extensions.get("candidates"):
                errors = await _conflict_errors(session, exc, item, self.phone_region)
            else:
                errors = row_errors(exc)
            self.reject(row, errors, item.label)
        except Exception as exc:
            if is_transient(exc):
                raise
            del outbox[staged_events:]
            await _reload_owner(session, item, owners)
            log.exception("import row failed", extra={"row": row.row_number, "job": str(row.job_id)})
            self.reject(
                row, [row_error("row", f"could not be applied: {type(exc).__name__}", "internal_error")], item.label
            )


async def apply_customer_rows(
    session: AsyncSession, rows: list[ImportRow], *, actor: str, phone_region: str | None
) -> BatchOutcome:
    """Applies a batch of staged rows; a bad row is that row's error and the batch goes on."""
    batch = _CustomerBatch(session, actor=actor, phone_region=phone_region)
    parsed: list[tuple[ImportRow, CustomerRow]] = []
    for row in rows:
        if row.raw is None:
            batch.reject(row, [row_error("row", row.problem or "unreadable", "unreadable")], None)
            continue
        try:
            parsed.append((row, parse_customer_row(row.raw)))
        except RowRejected as exc:
            label = row.raw.get("external_id") if isinstance(row.raw.get("external_id"), str) else None
            batch.reject(row, exc.errors, label[:300] if label else None)
    return await batch.apply(parsed)
