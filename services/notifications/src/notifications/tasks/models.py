from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base, new_id


class Task(Base):
    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    # None for a management task about no customer (an indicator alert, a complaint theme).
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    # What a management task is about: its trigger's subject (`indicator:<name>:<dimension>:<segment>`,
    # `theme:<category>:<product>`); the alert's recovery closes the open tasks of the same subject.
    subject: Mapped[str | None] = mapped_column(String(300), nullable=True)
    type: Mapped[str] = mapped_column(String(40), nullable=False)
    playbook: Mapped[str] = mapped_column(String(60), nullable=False)
    # `<playbook>:<index of the action>`: one playbook may open several tasks for one event.
    action_key: Mapped[str] = mapped_column(String(80), nullable=False)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    priority: Mapped[str] = mapped_column(String(20), nullable=False)
    assignee: Mapped[str] = mapped_column(String(200), nullable=False)
    # The team whose queue made the assignment, or whose lead/manager it escalated to.
    team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    cause_event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    cause_event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    correlation_id: Mapped[str] = mapped_column(String(100), nullable=False)
    # Id of the crm.task.created.v1 event: an event caused by it never re-triggers this playbook.
    created_event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The outcome of a completed task, or the reason a task was cancelled (free text: erased with the customer).
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The durable escalation timer's deadline; None once done, cancelled or at the top level.
    next_escalation_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)

    __table_args__ = (
        # Exactly one task per trigger event and playbook action, however often the event arrives.
        UniqueConstraint("cause_event_id", "playbook", "action_key", name="uq_tasks_cause_action"),
        Index("ix_tasks_customer", "customer_id", "created_at", "id"),
        Index("ix_tasks_assignee_status", "assignee", "status", "due_at"),
        Index("ix_tasks_created_event", "created_event_id"),
        Index("ix_tasks_subject", "subject", "status", postgresql_where=text("subject IS NOT NULL")),
        Index(
            "ix_tasks_next_escalation",
            "next_escalation_at",
            postgresql_where=text("next_escalation_at IS NOT NULL AND status IN ('open', 'claimed')"),
        ),
    )
