"""All queries of bulk imports (jobs, staged rows, per-row errors, and the owners of external ids)."""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the builtin in its annotations
import uuid
from collections.abc import Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Result, String, any_, delete, false, insert, literal, or_, select, true, tuple_, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import selectinload

from contacts.audit.models import AuditEntry
from contacts.customer_records.models import Customer, CustomerExternalId, SecondaryIdentifier
from contacts.imports.models import ImportJob, ImportRow, ImportRowError
from crm_shared.db import Repository

_INSERT_ROWS = insert(ImportRow.__table__)
_INSERT_ERRORS = insert(ImportRowError.__table__)
_INSERT_CUSTOMERS = insert(Customer.__table__)
_INSERT_EXTERNAL_IDS = insert(CustomerExternalId.__table__)
_INSERT_AUDIT = insert(AuditEntry.__table__)
_CUSTOMER_COLUMNS = [(a.key, a.columns[0].name) for a in Customer.__mapper__.column_attrs]


class ImportRepository(Repository):
    async def add_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Core executemany, not ORM objects: the session keeps nothing, so memory stays flat."""
        if rows:
            await self.session.execute(_INSERT_ROWS, list(rows))

    async def add_errors(self, errors: Sequence[dict[str, Any]]) -> None:
        if errors:
            await self.session.execute(_INSERT_ERRORS, list(errors))

    async def get(self, job_id: uuid.UUID) -> ImportJob | None:
        return await self.session.get(ImportJob, job_id)

    async def lock(self, job_id: uuid.UUID) -> ImportJob | None:
        """The job, locked until commit: one batch of a job at a time, whoever runs it."""
        return await self.session.get(ImportJob, job_id, with_for_update=True, populate_existing=True)

    async def claim_next(self, token: uuid.UUID, now: datetime) -> ImportJob | None:
        """The oldest job nobody holds: queued, held by this runner, or whose holder's lease ran out."""
        query = (
            select(ImportJob)
            .where(
                ImportJob.status.in_(("queued", "running")),
                or_(
                    ImportJob.claimed_by.is_(None),
                    ImportJob.claimed_by == token,
                    ImportJob.lease_until < now,
                ),
            )
            .order_by(ImportJob.created_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return (await self.session.scalars(query)).first()

    async def next_rows(self, job_id: uuid.UUID, after: int, limit: int) -> list[ImportRow]:
        query = (
            select(ImportRow)
            .where(ImportRow.job_id == job_id, ImportRow.row_number > after)
            .order_by(ImportRow.row_number)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def drop_rows(self, job_id: uuid.UUID) -> None:
        await self.session.execute(delete(ImportRow).where(ImportRow.job_id == job_id))

    async def list(
        self, *, status: str | None, kind: str | None, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[ImportJob]:
        """Newest first."""
        query = select(ImportJob)
        if status is not None:
            query = query.where(ImportJob.status == status)
        if kind is not None:
            query = query.where(ImportJob.kind == kind)
        if before:
            query = query.where(tuple_(ImportJob.created_at, ImportJob.id) < tuple_(*before))
        query = query.order_by(ImportJob.created_at.desc(), ImportJob.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def errors(self, job_id: uuid.UUID, *, after: int, limit: int) -> builtins.list[ImportRowError]:
        query = (
            select(ImportRowError)
            .where(ImportRowError.job_id == job_id, ImportRowError.row_number > after)
            .order_by(ImportRowError.row_number)
            .limit(limit)
        )
        return list((await self.session.scalars(query)).all())

    async def owners_of(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Customer]:
        """Who holds each external id, with their external ids loaded: one query per batch, not per row."""
        if not pairs:
            return {}
        owned = (
            await self.session.execute(
                select(CustomerExternalId.system, CustomerExternalId.id, CustomerExternalId.customer_id).where(
                    tuple_(CustomerExternalId.system, CustomerExternalId.id).in_(list(set(pairs)))
                )
            )
        ).all()
        if not owned:
            return {}
        customers = {
            c.id: c
            for c in (
                await self.session.scalars(
                    select(Customer)
                    .options(selectinload(Customer.external_ids))
                    .where(Customer.id.in_({row.customer_id for row in owned}))
                )
            ).all()
        }
        return {(row.system, row.id): customers[row.customer_id] for row in owned if row.customer_id in customers}

    async def identifier_holders(
        self, emails: Sequence[str], phones: Sequence[str]
    ) -> dict[tuple[str, str], dict[uuid.UUID, bool]]:
        """Active customers answering to any of these emails or phones, for a whole batch at once.

        `(kind, value) -> {customer id: whether it is their own}` (False: kept from a record merged
        into them), as `CustomerRepository.find_by_identifiers` sees them one at a time. One round
        trip; every branch is an index lookup.
        """
        active = Customer.status == "active"
        branches = []
        for kind, column, values in (("email", Customer.email, emails), ("phone", Customer.phone, phones)):
            if not values:
                continue
            among = any_(literal(list(values), ARRAY(String)))  # one array parameter, not one per value
            branches.append(select(literal(kind), column, Customer.id, true()).where(column == among, active))
            branches.append(
                select(SecondaryIdentifier.kind, SecondaryIdentifier.value, Customer.id, false())
                .join(Customer, Customer.id == SecondaryIdentifier.customer_id)
                .where(SecondaryIdentifier.kind == kind, SecondaryIdentifier.value == among, active)
            )
        holders: dict[tuple[str, str], dict[uuid.UUID, bool]] = {}
        if branches:
            found: Result[str, str, uuid.UUID, bool] = await self.session.execute(union_all(*branches))
            for kind, value, customer_id, own in found:
                held = holders.setdefault((kind, value), {})
                held[customer_id] = held.get(customer_id, False) or own
        return holders

    async def insert_customers(self, customers: Sequence[SimpleNamespace], audit: Sequence[dict[str, Any]]) -> None:
        """New records, their external ids and audit entries as multi-row INSERTs (Core, no unit of work).

        The records are built in memory, every column set (`customers.fields.build_customer`).
        """
        await self.session.execute(
            _INSERT_CUSTOMERS, [{column: getattr(c, key) for key, column in _CUSTOMER_COLUMNS} for c in customers]
        )
        external_ids = [
            {"system": e.system, "external_id": e.id, "customer_id": c.id} for c in customers for e in c.external_ids
        ]
        if external_ids:
            await self.session.execute(_INSERT_EXTERNAL_IDS, external_ids)
        await self.session.execute(_INSERT_AUDIT, list(audit))
