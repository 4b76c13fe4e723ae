from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base, utcnow


class CauseCode(Base):
    """One cause of the taxonomy (docs/domain.md#cause-remedy-compensation). Kept as data and
    edited by admins; never deleted (resolutions name it), only switched off (`active`)."""

    __tablename__ = "cause_codes"

    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_by: Mapped[str] = mapped_column(String(200), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False
    )


class Resolution(Base):
    """How a complaint was put right: one row per complaint, replaced when a reopened complaint is
    resolved again (the status history keeps the reopen)."""

    __tablename__ = "complaint_resolutions"

    feedback_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True
    )
    cause_code: Mapped[str] = mapped_column(String(60), ForeignKey("cause_codes.code"), nullable=False)
    # Free text written by staff about the customer's case: blanked on erasure.
    remedy: Mapped[str] = mapped_column(Text, nullable=False)
    compensation_amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2), nullable=True)
    compensation_currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    compensation_approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    compensation_approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    compensation_paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(200), nullable=False)
    resolved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_complaint_resolutions_resolved_at", "resolved_at"),)
