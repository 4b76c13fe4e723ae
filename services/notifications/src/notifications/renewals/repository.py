"""All queries on contract renewals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert

from crm_shared.db import Repository
from notifications.renewals.models import ContractRenewal


class RenewalRepository(Repository):
    async def add_once(self, values: dict[str, Any]) -> bool:
        """The contract's row unless it exists (a redelivered or replayed event); True if added."""
        statement = (
            insert(ContractRenewal)
            .values(values)
            .on_conflict_do_nothing(index_elements=["contract_id"])
            .returning(ContractRenewal.contract_id)
        )
        return (await self.session.execute(statement)).scalar() is not None

    async def mark_renewed(self, contract_id: uuid.UUID) -> None:
        """A renewal was recorded: a pending task for the old contract is no longer needed."""
        await self.session.execute(
            update(ContractRenewal)
            .where(ContractRenewal.contract_id == contract_id, ContractRenewal.status == "pending")
            .values(status="renewed")
        )

    async def claim_due(self, now: datetime, limit: int) -> list[ContractRenewal]:
        query = (
            select(ContractRenewal)
            .where(ContractRenewal.status == "pending", ContractRenewal.fire_at <= now)
            .order_by(ContractRenewal.fire_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(query)).all())

    async def earliest(self) -> datetime | None:
        query = select(func.min(ContractRenewal.fire_at)).where(ContractRenewal.status == "pending")
        return (await self.session.execute(query)).scalar()

    async def count_pending(self) -> int:
        query = select(func.count()).select_from(ContractRenewal).where(ContractRenewal.status == "pending")
        return (await self.session.execute(query)).scalar_one()

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        await self.session.execute(
            update(ContractRenewal).where(ContractRenewal.customer_id == from_id).values(customer_id=to_id)
        )
