"""All queries on the audit log."""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the builtin in its annotations
import uuid
from datetime import datetime

from sqlalchemy import select, tuple_

from contacts.audit.models import AuditEntry
from crm_shared.db import Repository


class AuditRepository(Repository):
    def add(self, entry: AuditEntry) -> None:
        self.session.add(entry)

    async def list(
        self, customer_id: uuid.UUID, *, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditEntry).where(AuditEntry.customer_id == customer_id)
        if before:
            query = query.where(tuple_(AuditEntry.at, AuditEntry.id) < tuple_(*before))
        query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def of_customers(self, customer_ids: builtins.list[uuid.UUID]) -> builtins.list[AuditEntry]:
        """Every entry of these records, locked: erasure rewrites their values."""
        query = select(AuditEntry).where(AuditEntry.customer_id.in_(customer_ids)).order_by(AuditEntry.id)
        return list((await self.session.scalars(query.with_for_update())).all())
