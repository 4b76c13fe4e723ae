from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import DateTime, Float, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base, new_id
from crm_shared.versioning import VersionColumns

# The two clocks every complaint gets (the column holds one of these).
ClockKind = Literal["first_response", "resolution"]


class SlaPolicyRecord(VersionColumns, Base):
    """One version of the SLA targets; the highest applies to clocks started from then on.

    Kept forever: a clock remembers the version (and the target) it was started with, so a
    policy change never moves a deadline already promised.
    """

    __tablename__ = "sla_policies"

    # {"first_response": {"<severity>": {"<tier>": seconds}}, "resolution": {...}}
    targets: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class SlaClock(Base):
    """One deadline of one complaint (clock `first_response` or `resolution`).

    The customer is not copied here: the event reads it from the feedback row, which merges
    re-point, so a clock never needs its own merge handling.
    """

    __tablename__ = "sla_clocks"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    feedback_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    clock: Mapped[ClockKind] = mapped_column(String(20), nullable=False)
    # Severity and tier of the time the complaint arrived: they chose the target.
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    tier: Mapped[str] = mapped_column(String(20), nullable=False)
    policy_version: Mapped[int] = mapped_column(Integer, nullable=False)
    target_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    # Moves later by the paused time on each resume.
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # running | paused | met | breached
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    pause_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)
    paused_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    # A reopened case restarts its resolution clock; this counts the restarts.
    restarts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    __table_args__ = (
        UniqueConstraint("feedback_id", "clock", name="uq_sla_clocks_feedback_id_clock"),
        # The timer's only question: the earliest running deadline.
        Index("ix_sla_clocks_running_due", "due_at", postgresql_where=text("status = 'running'")),
    )
