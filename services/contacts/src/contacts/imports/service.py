"""Bulk import use cases: stage an upload, apply a batch of rows, report. Never commits.

The upload request is one unit of work (the file is staged whole, or not at all); the worker's
runner makes each batch of rows one unit of work, with the job's progress in the same commit.
Rows go through the customer service's own create and update, so an imported customer gets the
same checks, audit entries and events as one entered by hand.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activities.schemas import ActivityCreate
from contacts.activities.service import record_activity
from contacts.activity_records.repository import ActivityRepository
from contacts.audit import service as audit
from contacts.customer_records.models import Customer
from contacts.customer_records.repository import CustomerRepository
from contacts.customers import service as customers
from contacts.customers.schemas import CustomerCreate, CustomerUpdate
from contacts.events.publishers import customer_created_event
from contacts.imports import parsing
from contacts.imports.models import ImportJob, ImportRow
from contacts.imports.repository import ImportRepository
from contacts.imports.schemas import ImportJobPage, ImportJobRead, RowErrorPage, RowErrorRead
from contacts.tiers import service as tiering
from contacts.tiers.schemas import TierRules
from crm_shared.contracts import Topics
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_cursor, decode_time_cursor, encode_cursor, encode_time_cursor
from crm_shared.http.problems import Conflict, NotFound, ProblemError
from crm_shared.messaging.consumer import is_transient
from crm_shared.messaging.outbox import add_events

log = logging.getLogger(__name__)

STAGE_BATCH = 1_000
LEASE = timedelta(seconds=30)

CUSTOMER_COLUMNS = (
    "name",
    "kind",
    "email",
    "phone",
    "tier",
    "tier_reason",
    "owner",
    "region",
    "industry",
    "size",
    "lifecycle_stage",
    "credit_standing",
    "credit_reason",
    "tags",
    "strategic",
    "potential",
    "external_id",
    "organisation_external_id",
)
ACTIVITY_COLUMNS = (
    "customer_external_id",
    "kind",
    "occurred_at",
    "external_ref",
    "amount",
    "currency",
    "products",
    "starts_on",
    "ends_on",
    "renewal_of_external_ref",
    "annual_value",
    "purpose",
    "visited_by",
    "direction",
    "duration_seconds",
    "handled_by",
)
_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
COLUMNS = {"customers": CUSTOMER_COLUMNS, "activities": ACTIVITY_COLUMNS}
REQUIRED_COLUMNS = {
    "customers": ("name", "external_id"),
    "activities": ("customer_external_id", "kind", "occurred_at", "external_ref"),
}


# --- upload -------------------------------------------------------------------------------------


class _Hashed:
    """Passes the body through while hashing it: an Idempotency-Key is bound to the file's content."""

    def __init__(self, chunks: AsyncIterable[bytes]) -> None:
        self.chunks = chunks
        self.digest = hashlib.sha256()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.chunks:
            self.digest.update(chunk)
            yield chunk


async def receive(
    session: AsyncSession,
    body: AsyncIterable[bytes],
    *,
    kind: str,
    fmt: str,
    actor: str,
    correlation_id: str | None,
) -> tuple[ImportJob, str]:
    """Stages the file's rows in batches as they arrive; returns the queued job and the body's hash."""
    repository = ImportRepository(session)
    job = await repository.add_job(
        ImportJob(
            kind=kind, format=fmt, status="queued", actor=actor, correlation_id=correlation_id, created_at=utcnow()
        )
    )
    hashed = _Hashed(body)
    rows = (
        parsing.csv_rows(hashed, allowed=COLUMNS[kind], required=REQUIRED_COLUMNS[kind])
        if fmt == "csv"
        else parsing.jsonl_rows(hashed)
    )
    batch: list[dict[str, Any]] = []
    received = 0
    async for row in rows:
        received += 1
        if received > parsing.MAX_ROWS:
            raise ProblemError(
                413,
                "Content too large",
                f"An import holds at most {parsing.MAX_ROWS:,} rows: split the file.",
                type="too-many-rows",
            )
        batch.append(
            {"job_id": job.id, "row_number": row.row_number, "line": row.line, "raw": row.raw, "problem": row.problem}
        )
        if len(batch) >= STAGE_BATCH:
            await repository.add_rows(batch)
            batch = []
    await repository.add_rows(batch)
    if received == 0:
        raise parsing.file_problem("the file holds no rows", code="empty")
    job.rows_received = received
    await session.flush()
    return job, hashed.digest.hexdigest()


# --- reports ------------------------------------------------------------------------------------


def job_read(job: ImportJob, now: datetime | None = None) -> ImportJobRead:
    elapsed = ((job.finished_at or now or utcnow()) - job.started_at).total_seconds() if job.started_at else 0
    return ImportJobRead(
        id=job.id,
        kind=job.kind,
        format=job.format,
        status=job.status,
        actor=job.actor,
        rows_received=job.rows_received,
        rows_processed=job.rows_processed,
        created=job.created,
        updated=job.updated,
        unchanged=job.unchanged,
        failed=job.failed,
        progress_percent=round(100 * job.rows_processed / job.rows_received, 1) if job.rows_received else 0.0,
        rows_per_second=round(job.rows_processed / elapsed, 1) if elapsed > 0 else None,
        error=job.error,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


async def get_job(session: AsyncSession, job_id: uuid.UUID) -> ImportJob:
    job = await ImportRepository(session).get(job_id)
    if job is None:
        raise NotFound("Import", job_id)
    return job


async def list_jobs(
    session: AsyncSession, *, status: str | None, kind: str | None, limit: int, cursor: str | None
) -> ImportJobPage:
    rows = await ImportRepository(session).list(
        status=status, kind=kind, limit=limit + 1, before=decode_time_cursor(cursor)
    )
    last = rows[limit - 1] if len(rows) > limit else None
    return ImportJobPage(
        items=[job_read(r) for r in rows[:limit]],
        next_cursor=encode_time_cursor(last.created_at, last.id) if last else None,
    )


def _after(cursor: str | None) -> int:
    if not cursor:
        return 0
    [value] = decode_cursor(cursor, 1)
    if not value.isdigit():
        raise ProblemError(400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor")
    return int(value)


async def list_errors(session: AsyncSession, job_id: uuid.UUID, *, limit: int, cursor: str | None) -> RowErrorPage:
    await get_job(session, job_id)
    rows = await ImportRepository(session).errors(job_id, after=_after(cursor), limit=limit + 1)
    return RowErrorPage(
        items=[RowErrorRead.model_validate(r) for r in rows[:limit]],
        next_cursor=encode_cursor(rows[limit - 1].row_number) if len(rows) > limit else None,
    )


# --- processing ---------------------------------------------------------------------------------


class RowRejected(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def _error(field: str, message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code, **extra}


def _external_ids(text: Any, field: str) -> list[tuple[str, str]]:
    """`system:id`, several separated by `;`."""
    if not isinstance(text, str):
        raise RowRejected([_error(field, "give it as <system>:<id>, several separated by ;", "invalid_external_id")])
    pairs = []
    for part in text.split(";"):
        system, _, ident = part.strip().partition(":")
        if not system.strip() or not ident.strip():
            raise RowRejected(
                [_error(field, f"{part.strip()!r} is not <system>:<id> (e.g. erp:D-10042)", "invalid_external_id")]
            )
        pairs.append((system.strip(), ident.strip()))
    return pairs


def _validation_errors(exc: ValidationError, renamed: dict[str, str]) -> list[dict[str, Any]]:
    errors = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e["loc"]) or "row"
        top = field.split(".")[0]
        errors.append(_error(renamed.get(top, field), e["msg"], e["type"]))
    return errors


@dataclass(slots=True)
class CustomerRow:
    data: CustomerCreate
    external_ids: list[tuple[str, str]]
    organisation: tuple[str, str] | None
    label: str  # the external ids as the report names them


def parse_customer_row(raw: dict[str, Any]) -> CustomerRow:
    """A staged row as a customer create; CSV gives text (tags and ids `;`-separated), JSON Lines typed values."""
    data = dict(raw)
    renamed: dict[str, str] = {}
    if "organisation_id" in data:
        raise RowRejected([_error("organisation_id", "use organisation_external_id", "extra_forbidden")])
    if "external_id" in data:
        if "external_ids" in data:
            raise RowRejected([_error("external_id", "give external_id or external_ids, not both", "ambiguous")])
        data["external_ids"] = [
            {"system": s, "id": i} for s, i in _external_ids(data.pop("external_id"), "external_id")
        ]
        renamed["external_ids"] = "external_id"
    organisation = None
    if (org_text := data.pop("organisation_external_id", None)) is not None:
        [organisation] = _external_ids(org_text, "organisation_external_id")[:1]
        data.setdefault("kind", "person")
    if isinstance(data.get("tags"), str):
        data["tags"] = [t for t in (t.strip() for t in data["tags"].split(";")) if t]
    if isinstance(data.get("strategic"), str):
        data["strategic"] = _BOOLEANS.get(data["strategic"].lower(), data["strategic"])
    try:
        model = CustomerCreate.model_validate(data)
    except ValidationError as exc:
        raise RowRejected(_validation_errors(exc, renamed)) from exc
    if organisation is not None and model.kind.value != "person":
        raise RowRejected(
            [_error("organisation_external_id", "only a person belongs to an organisation", "not_a_person")]
        )
    pairs = [(e.system, e.id) for e in model.external_ids]
    if not pairs:
        raise RowRejected([_error("external_id", "required: re-running an import finds the customer by it", "missing")])
    return CustomerRow(model, pairs, organisation, ";".join(f"{s}:{i}" for s, i in pairs))


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


_PROFILE_SCALARS = ("name", "email", "phone", "tier", "owner", *customers.PROFILE_FIELDS)


def _patch(customer: Customer, row: CustomerRow, organisation_id: uuid.UUID | None, phone_region: str | None) -> dict:
    """The row's fields (only those it gives) that differ from the record, as a merge patch."""
    given = row.data.model_fields_set
    values = {
        k: v.value if isinstance(v, Enum) else v
        for k, v in row.data.model_dump(include=given & set(_PROFILE_SCALARS)).items()
    }
    if {"email", "phone"} & values.keys():
        email, phone = customers.normalized_identifiers(values.get("email"), values.get("phone"), phone_region)
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
            [_error("kind", f"the customer is an {customer.kind}; an import cannot change that", "immutable")]
        )
    if row.organisation is not None and organisation_id != customer.organisation_id:
        patch["organisation_id"] = organisation_id
    have = {(e.system, e.id) for e in customer.external_ids}
    if set(row.external_ids) - have:  # adds ids, never removes one another system relies on
        patch["external_ids"] = [{"system": s, "id": i} for s, i in sorted(have | set(row.external_ids))]
    return patch


def _owner(row: CustomerRow, owners: dict[tuple[str, str], Customer]) -> Customer | None:
    found = {owners[p].id: owners[p] for p in row.external_ids if p in owners}
    if len(found) > 1:
        raise RowRejected(
            [
                _error(
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
                _error(
                    "external_id",
                    f"customer {customer.id} is {customer.status}",
                    "not_active",
                    candidates=[str(customer.id)],
                )
            ]
        )
    return customer


def _organisation_id(row: CustomerRow, owners: dict[tuple[str, str], Customer]) -> uuid.UUID | None:
    if row.organisation is None:
        return None
    organisation = owners.get(row.organisation)
    if organisation is None:
        raise RowRejected(
            [
                _error(
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
    return [_error(f, message, "duplicate", candidates=candidates) for f in fields or ["row"]]


async def _conflict_errors(
    session: AsyncSession, exc: ProblemError, row: CustomerRow, phone_region: str | None
) -> list:
    """Which identifier a 409 was about, so the report names the field and the existing records."""
    candidates = [str(c) for c in exc.extensions.get("candidates", [])]
    email, phone = customers.normalized_identifiers(row.data.email, row.data.phone, phone_region)
    holders = await CustomerRepository(session).find_by_identifiers(email=email, phone=phone)
    fields = [
        f
        for f, value in (("email", email), ("phone", phone))
        if value and any(getattr(h, f) == value and str(h.id) in candidates for h in holders)
    ]
    named = any("name" in d.get("matched", []) for d in exc.extensions.get("duplicates", []))
    return _duplicate_errors(str(exc.detail), candidates, fields or (["name"] if named else []))


def _problem_errors(exc: ProblemError) -> list[dict[str, Any]]:
    renamed = {"organisation_id": "organisation_external_id"}
    if exc.errors:
        return [e | {"field": renamed.get(e["field"], e["field"])} for e in exc.errors]
    return [_error("row", str(exc.detail or exc.title), exc.type)]


async def _reload_owner(session: AsyncSession, item: CustomerRow, owners: dict[tuple[str, str], Customer]) -> None:
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
    built in memory (`customers.build_customer`, tier rules read once per batch) and stored with a
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
        self.owners: dict[tuple[str, str], Customer] = {}
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
        self.owners = await ImportRepository(self.session).owners_of(wanted)
        for row, item in parsed:
            pairs = item.external_ids
            if item.organisation is None and not any(p in self.owners or p in self.claimed for p in pairs):
                try:
                    email, phone = customers.normalized_identifiers(item.data.email, item.data.phone, self.phone_region)
                except ProblemError as exc:
                    self.reject(row, _problem_errors(exc), item.label)
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
                customer = customers.build_customer(
                    new.item.data, email=new.email, phone=new.phone, rules=self.rules, actor=self.actor
                )
            except (ProblemError, ValidationError) as exc:
                rejected.append((new, _row_errors(exc)))
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
            audit.entry_values(c.id, actor=self.actor, action="created", changes=customers.created_changes(c))
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
                    if duplicates := await customers.find_duplicates(session, data, self.phone_region):
                        raise customers.duplicate_conflict(
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
                errors = _row_errors(exc)
            self.reject(row, errors, item.label)
        except Exception as exc:
            if is_transient(exc):
                raise
            del outbox[staged_events:]
            await _reload_owner(session, item, owners)
            log.exception("import row failed", extra={"row": row.row_number, "job": str(row.job_id)})
            self.reject(
                row, [_error("row", f"could not be applied: {type(exc).__name__}", "internal_error")], item.label
            )


def _row_errors(exc: ProblemError | ValidationError) -> list[dict[str, Any]]:
    if isinstance(exc, ValidationError):
        return _validation_errors(exc, {"external_ids": "external_id"})
    return _problem_errors(exc)


async def apply_customer_rows(
    session: AsyncSession, rows: list[ImportRow], *, actor: str, phone_region: str | None
) -> BatchOutcome:
    """Applies a batch of staged rows; a bad row is that row's error and the batch goes on."""
    batch = _CustomerBatch(session, actor=actor, phone_region=phone_region)
    parsed: list[tuple[ImportRow, CustomerRow]] = []
    for row in rows:
        if row.raw is None:
            batch.reject(row, [_error("row", row.problem or "unreadable", "unreadable")], None)
            continue
        try:
            parsed.append((row, parse_customer_row(row.raw)))
        except RowRejected as exc:
            label = row.raw.get("external_id") if isinstance(row.raw.get("external_id"), str) else None
            batch.reject(row, exc.errors, label[:300] if label else None)
    return await batch.apply(parsed)


# --- activities ---------------------------------------------------------------------------------


@dataclass(slots=True)
class ActivityRow:
    customer: tuple[str, str]  # the customer's external id
    data: ActivityCreate
    renewal_of: str | None  # the external_ref of the contract it renews
    label: str


_ACTIVITY_FIELDS = frozenset(ACTIVITY_COLUMNS) - {"customer_external_id", "occurred_at", "external_ref"}


def parse_activity_row(raw: dict[str, Any]) -> ActivityRow:
    """A staged row as an activity of the customer it names by external id.

    The kind's own fields sit beside `kind` in the row (`products` `;`-separated in CSV); a
    contract renews another by that one's `external_ref` (`renewal_of_external_ref`).
    """
    data = dict(raw)
    text = data.pop("customer_external_id", None)
    if text is None:
        raise RowRejected([_error("customer_external_id", "required: the customer's <system>:<id>", "missing")])
    pairs = _external_ids(text, "customer_external_id")
    if len(pairs) != 1:
        raise RowRejected([_error("customer_external_id", "give one <system>:<id>", "invalid_external_id")])
    if not data.get("external_ref"):
        raise RowRejected(
            [_error("external_ref", "required: re-running an import finds the activity by it", "missing")]
        )
    renewal_of = data.pop("renewal_of_external_ref", None)
    details = {k: data.pop(k) for k in list(data) if k in _ACTIVITY_FIELDS}
    if isinstance(details.get("products"), str):
        details["products"] = [p for p in (p.strip() for p in details["products"].split(";")) if p]
    if renewal_of is not None and details.get("kind") != "contract":
        raise RowRejected([_error("renewal_of_external_ref", "only a contract renews another", "unexpected")])
    try:
        model = ActivityCreate.model_validate(data | {"details": details})
    except ValidationError as exc:
        raise RowRejected(_activity_errors(exc)) from exc
    return ActivityRow(pairs[0], model, renewal_of, f"{pairs[0][0]}:{pairs[0][1]}")


def _activity_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Fields named as the row has them: `details.order.amount` is the row's `amount`."""
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        if loc[:1] == ["details"]:
            loc = loc[2:] or ["kind"]  # past the union's tag; the tag itself is the row's kind
        errors.append(_error(".".join(loc) or "row", e["msg"], e["type"]))
    return errors


async def apply_activity_rows(session: AsyncSession, rows: list[ImportRow], *, actor: str) -> BatchOutcome:
    """Each row in its own SAVEPOINT through `record_activity`: idempotent by `external_ref`, so a
    re-run finds every activity recorded and writes and publishes nothing."""
    outcome = BatchOutcome()
    parsed: list[tuple[ImportRow, ActivityRow]] = []

    def reject(row: ImportRow, errors: list[dict[str, Any]], label: str | None) -> None:
        outcome.errors.append({"row_number": row.row_number, "line": row.line, "external_id": label, "errors": errors})

    for row in rows:
        if row.raw is None:
            reject(row, [_error("row", row.problem or "unreadable", "unreadable")], None)
            continue
        try:
            parsed.append((row, parse_activity_row(row.raw)))
        except RowRejected as exc:
            label = row.raw.get("customer_external_id")
            reject(row, exc.errors, label[:300] if isinstance(label, str) else None)
    owners = await ImportRepository(session).owners_of([item.customer for _, item in parsed])
    outbox = session.info.setdefault("outbox", [])
    for row, item in parsed:
        customer = owners.get(item.customer)
        if customer is None:
            reject(
                row, [_error("customer_external_id", f"no customer has {item.label}", "unknown_customer")], item.label
            )
            continue
        staged_events = len(outbox)
        try:
            async with session.begin_nested():
                data = item.data
                if item.renewal_of is not None:
                    renewed = await ActivityRepository(session).by_external_ref(customer.id, item.renewal_of)
                    if renewed is None or renewed.kind != "contract":
                        raise RowRejected(
                            [
                                _error(
                                    "renewal_of_external_ref",
                                    f"{item.label} has no contract {item.renewal_of!r}",
                                    "unknown_contract",
                                )
                            ]
                        )
                    details = data.details.model_copy(update={"renewal_of": renewed.id})
                    data = data.model_copy(update={"details": details})
                _, created = await record_activity(session, customer.id, data, actor=actor)
            if created:
                outcome.created += 1
            else:
                outcome.unchanged += 1
        except RowRejected as exc:
            reject(row, exc.errors, item.label)
        except (ProblemError, ValidationError) as exc:
            del outbox[staged_events:]  # the savepoint took the outbox rows back: publish none of them
            reject(row, _row_errors(exc), item.label)
    return outcome


async def claim_job(session: AsyncSession, token: uuid.UUID) -> uuid.UUID | None:
    """Takes the oldest job nobody is running (FOR UPDATE SKIP LOCKED: two runners never take the same)."""
    now = utcnow()
    job = await ImportRepository(session).claim_next(token, now)
    if job is None:
        return None
    job.status, job.claimed_by, job.lease_until = "running", token, now + LEASE
    job.started_at = job.started_at or now
    return job.id


async def apply_next_batch(
    session: AsyncSession, job_id: uuid.UUID, token: uuid.UUID, *, batch_size: int, phone_region: str | None
) -> bool:
    """Applies the rows after the last committed batch and records the progress in the same
    transaction, so a crash resumes exactly there. False once the job is done (or not ours)."""
    repository = ImportRepository(session)
    job = await repository.lock(job_id)
    if job is None or job.status != "running" or job.claimed_by != token:
        return False
    rows = await repository.next_rows(job.id, job.rows_processed, batch_size)
    if job.kind == "customers":
        outcome = await apply_customer_rows(session, rows, actor=job.actor, phone_region=phone_region)
    elif job.kind == "activities":
        outcome = await apply_activity_rows(session, rows, actor=job.actor)
    else:
        raise ValueError(f"unknown import kind {job.kind!r}")
    await repository.add_errors([e | {"job_id": job.id} for e in outcome.errors])
    job.rows_processed += len(rows)
    job.created += outcome.created
    job.updated += outcome.updated
    job.unchanged += outcome.unchanged
    job.failed += len(outcome.errors)
    now = utcnow()
    job.lease_until = now + LEASE
    if job.rows_processed >= job.rows_received or not rows:
        job.status, job.finished_at, job.claimed_by, job.lease_until = "completed", now, None, None
        await repository.drop_rows(job.id)
        return False
    return True


async def release_job(session: AsyncSession, job_id: uuid.UUID, token: uuid.UUID) -> None:
    """On a graceful stop: another worker may take the job over at once (it resumes after the last batch)."""
    job = await ImportRepository(session).lock(job_id)
    if job is not None and job.claimed_by == token and job.status == "running":
        job.claimed_by, job.lease_until = None, None


async def fail_job(session: AsyncSession, job_id: uuid.UUID, reason: str) -> None:
    job = await ImportRepository(session).lock(job_id)
    if job is not None and job.status in ("queued", "running"):
        job.status, job.error, job.finished_at, job.claimed_by, job.lease_until = "failed", reason, utcnow(), None, None
