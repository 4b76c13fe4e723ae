from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base
from notifications.outbound.attempts import AttemptColumns

_PENDING = text("status IN ('queued', 'scheduled', 'retrying', 'sending')")


class MessageTemplate(Base):
    """An admin's version of a template; keys without a row use the shipped default."""

    __tablename__ = "message_templates"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    variants: Mapped[dict[str, dict[str, str]]] = mapped_column(JSONB, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class StaffMember(Base):
    """Where staff notifications go: a name (as tasks and account owners use it) and addresses."""

    __tablename__ = "staff_members"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reports_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    # customer | staff | system (a webhook call)
    audience: Mapped[str] = mapped_column(String(10), nullable=False)
    # "customer", "owner", "team_lead", "manager", "user:<name>" or the URL of a webhook call
    recipient: Mapped[str] = mapped_column(String(2000), nullable=False)
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    template: Mapped[str | None] = mapped_column(String(60), nullable=True)
    # What the placeholders read: the trigger event (id, type, time, data) or the API caller's data.
    context: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # Resolved and rendered by the delivery loop at each attempt (current card, current template).
    language: Mapped[str | None] = mapped_column(String(35), nullable=True)
    to_address: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    trigger_event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    trigger_event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    playbook: Mapped[str] = mapped_column(String(60), nullable=False)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    correlation_id: Mapped[str] = mapped_column(String(100), nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # queued | scheduled (quiet hours) | sending | retrying | sent | suppressed | dead
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Attempts made before the last manual re-queue: each re-queue gets the full retry budget.
    attempts_before_requeue: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # When the loop takes it next; while `sending`, when the send's lease runs out.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        # One message per trigger event, playbook and action: a redelivered trigger adds nothing.
        UniqueConstraint("trigger_event_id", "playbook", "action_key", name="uq_messages_trigger_action"),
        Index("ix_messages_customer", "customer_id", "created_at", "id"),
        Index("ix_messages_status", "status", "created_at", "id"),
        Index("ix_messages_due", "next_attempt_at", postgresql_where=_PENDING),
    )


class MessageAttempt(AttemptColumns, Base):
    __tablename__ = "message_attempts"

    message_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
