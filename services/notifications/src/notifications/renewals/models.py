from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base


class ContractRenewal(Base):
    """A contract with an end date, and whether its renewal task was made: one row per contract."""

    __tablename__ = "contract_renewals"

    # The contract's activity id in contacts: the row (and so the task) exists once per contract.
    contract_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, index=True)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    # When the renewal task is made: `ends_on` minus the tier's lead days.
    fire_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # pending -> fired (the task exists) | renewed (a renewal was recorded first: no task needed)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    # The crm.contact.activity_recorded.v1 event that recorded the contract (the task's cause).
    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    correlation_id: Mapped[str] = mapped_column(String(100), nullable=False)
    task_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    fired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_contract_renewals_due", "fire_at", postgresql_where=text("status = 'pending'")),)
