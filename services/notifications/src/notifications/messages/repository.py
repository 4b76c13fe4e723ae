"""All queries on messages, their attempts, templates and the staff directory."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from crm_shared.projections import current_id_of, in_reach
from notifications.messages.models import (
    Message,
    MessageAttempt,
    MessageTemplate,
    StaffMember,
)
from notifications.outbound.attempts import PENDING_STATUSES
from notifications.outbound.repository import DeliveryQueueRepository

_MESSAGES = Message.__table__
# Built once: executors run it inside every playbook transaction. A merged customer id follows
# its alias in the same statement; the unique trigger/playbook/action makes a redelivery a no-op.
_CREATE_ONCE = (
    insert(_MESSAGES)
    .values(
        {
            c.name: current_id_of(bindparam(c.name)) if c.name == "customer_id" else bindparam(c.name)
            for c in _MESSAGES.columns
        }
    )
    .on_conflict_do_nothing(constraint="uq_messages_trigger_action")
    .returning(*_MESSAGES.columns)
)


class MessageRepository(DeliveryQueueRepository[Message, MessageAttempt]):
    item_model = Message
    attempt_model = MessageAttempt
    attempt_key = "message_id"

    async def create_once(self, values: dict[str, Any]) -> Row[Any] | None:
        """Insert unless this trigger, playbook and action already made a message; None if it had."""
        full = {c.name: None for c in _MESSAGES.columns} | values
        return (await self.session.execute(_CREATE_ONCE, full)).first()

    async def get(self, message_id: uuid.UUID) -> Message | None:
        """The message, if its customer is within the caller's reach (crm_shared.access)."""
        query = select(Message).where(Message.id == message_id, in_reach(self.reach, Message.customer_id))
        return (await self.session.scalars(query)).first()

    async def attempts(self, message_id: uuid.UUID) -> list[MessageAttempt]:
        query = select(MessageAttempt).where(MessageAttempt.message_id == message_id).order_by(MessageAttempt.number)
        return list((await self.session.scalars(query)).all())

    async def list(
        self,
        *,
        customer_id: uuid.UUID | None,
        status: str | None,
        channel: str | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
    ) -> builtins.list[Message]:
        query = select(Message).where(in_reach(self.reach, Message.customer_id))
        if customer_id:
            query = query.where(Message.customer_id == customer_id)
        if status:
            query = query.where(Message.status == status)
        if channel:
            query = query.where(Message.channel == channel)
        if before:
            query = query.where(tuple_(Message.created_at, Message.id) < tuple_(*before))
        query = query.order_by(Message.created_at.desc(), Message.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        await self.session.execute(update(Message).where(Message.customer_id == from_id).values(customer_id=to_id))

    async def redact_customer(self, customer_ids: builtins.list[uuid.UUID], now: datetime, redacted: str) -> None:
        """Addresses, rendered texts and trigger data go; pending messages will never be sent."""
        base = update(Message).where(Message.customer_id.in_(customer_ids))
        await self.session.execute(
            base.where(Message.status.in_(PENDING_STATUSES)).values(
                status="suppressed", status_reason="customer erased", next_attempt_at=None, updated_at=now
            )
        )
        await self.session.execute(
            base.values(
                to_address=None,
                subject=None,
                body=None,
                context={"redacted": redacted},
                updated_at=now,
            )
        )
        await self.session.execute(
            update(MessageAttempt)
            .where(
                MessageAttempt.message_id.in_(select(Message.id).where(Message.customer_id.in_(customer_ids))),
                MessageAttempt.error.is_not(None),
            )
            .values(error=redacted)
        )

    # -- templates and staff ---------------------------------------------------------------

    async def template(self, key: str) -> MessageTemplate | None:
        return await self.session.get(MessageTemplate, key)

    async def templates(self) -> builtins.list[MessageTemplate]:
        return list((await self.session.scalars(select(MessageTemplate).order_by(MessageTemplate.key))).all())

    async def put_template(self, key: str, variants: dict[str, Any], actor: str, now: datetime) -> MessageTemplate:
        row = insert(MessageTemplate).values(key=key, variants=variants, version=1, updated_by=actor, updated_at=now)
        statement = row.on_conflict_do_update(
            index_elements=[MessageTemplate.key],
            set_={
                "variants": row.excluded.variants,
                "version": MessageTemplate.version + 1,
                "updated_by": row.excluded.updated_by,
                "updated_at": row.excluded.updated_at,
            },
        ).returning(MessageTemplate)
        return (await self.session.scalars(statement, execution_options={"populate_existing": True})).one()

    async def staff(self, name: str) -> StaffMember | None:
        return await self.session.get(StaffMember, name)

    async def staff_with_role(self, role: str) -> StaffMember | None:
        query = select(StaffMember).where(StaffMember.role == role).order_by(StaffMember.name).limit(1)
        return (await self.session.scalars(query)).first()

    async def all_staff(self) -> builtins.list[StaffMember]:
        return list((await self.session.scalars(select(StaffMember).order_by(StaffMember.name))).all())

    async def put_staff(self, name: str, values: dict[str, Any], now: datetime) -> StaffMember:
        row = insert(StaffMember).values(name=name, updated_at=now, **values)
        statement = row.on_conflict_do_update(
            index_elements=[StaffMember.name], set_={**values, "updated_at": now}
        ).returning(StaffMember)
        return (await self.session.scalars(statement, execution_options={"populate_existing": True})).one()
