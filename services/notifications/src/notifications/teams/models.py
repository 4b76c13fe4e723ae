from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base


class Team(Base):
    """A work queue: tasks assigned `team:<name>` go round-robin to its members; overdue tasks of
    its members escalate to its lead, then its manager."""

    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    members: Mapped[list[str]] = mapped_column(JSONB, nullable=False, server_default="[]")
    lead: Mapped[str | None] = mapped_column(String(200), nullable=True)
    manager: Mapped[str | None] = mapped_column(String(200), nullable=True)
    escalate_after_minutes: Mapped[float] = mapped_column(Float, nullable=False, server_default="240")
    # Round-robin position: the next assignment takes members[assigned % len(members)].
    assigned: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
