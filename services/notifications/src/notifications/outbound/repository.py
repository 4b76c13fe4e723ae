"""The queries of a delivery queue, the same for messages and webhook deliveries: claim due rows,
the earliest due time, lock one row, read and write its attempts."""

from __future__ import annotations

import builtins  # a subclass's own `list` method shadows the builtin in its annotations
import uuid
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import func, select

from crm_shared.db import Repository
from notifications.outbound.attempts import PENDING_STATUSES

ItemT = TypeVar("ItemT")
AttemptT = TypeVar("AttemptT")


class DeliveryQueueRepository(Repository, Generic[ItemT, AttemptT]):
    """Base of `MessageRepository` and `WebhookRepository`: the item table has `id`, `status`,
    `attempts` and `next_attempt_at`; its attempt table is keyed by (`attempt_key`, number)."""

    item_model: ClassVar[Any]
    attempt_model: ClassVar[Any]
    attempt_key: ClassVar[str]

    async def claim_due(self, now: datetime, limit: int) -> builtins.list[ItemT]:
        """Due rows, locked; another worker's claim is skipped, never waited for."""
        model = self.item_model
        query = (
            select(model)
            .where(model.status.in_(PENDING_STATUSES), model.next_attempt_at <= now)
            .order_by(model.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(query)).all())

    async def next_due(self) -> datetime | None:
        model = self.item_model
        return await self.session.scalar(
            select(func.min(model.next_attempt_at)).where(model.status.in_(PENDING_STATUSES))
        )

    async def lock(self, item_id: uuid.UUID) -> ItemT | None:
        """The row, locked until commit: the runner recording an outcome and an admin re-queueing
        it take turns."""
        query = select(self.item_model).where(self.item_model.id == item_id).with_for_update()
        return (await self.session.scalars(query)).first()

    async def attempt(self, item_id: uuid.UUID, number: int) -> AttemptT | None:
        return await self.session.get(self.attempt_model, (item_id, number))

    def add_attempt(self, item_id: uuid.UUID, number: int, started_at: datetime) -> None:
        self.session.add(self.attempt_model(**{self.attempt_key: item_id}, number=number, started_at=started_at))
