from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base, new_id


class CustomerScore(Base):
    """The current scores of a customer, with the aggregates they are computed from."""

    __tablename__ = "customer_scores"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    satisfaction: Mapped[float] = mapped_column(Float, nullable=False)
    health: Mapped[float] = mapped_column(Float, nullable=False)
    band: Mapped[str] = mapped_column(String(20), nullable=False)
    complaint_weight: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    praise_weight: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    complaints: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    praises: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    inputs_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    model_version: Mapped[str] = mapped_column(String(40), nullable=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    last_event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class ScoreHistory(Base):
    """One row per change: what the score became, from what, and which event moved it."""

    __tablename__ = "score_history"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    satisfaction: Mapped[float] = mapped_column(Float, nullable=False)
    health: Mapped[float] = mapped_column(Float, nullable=False)
    band: Mapped[str] = mapped_column(String(20), nullable=False)
    previous_satisfaction: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_health: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_band: Mapped[str | None] = mapped_column(String(20), nullable=True)
    cause_event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    cause_event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    model_version: Mapped[str] = mapped_column(String(40), nullable=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)

    __table_args__ = (Index("ix_score_history_customer", "customer_id", "computed_at", "id"),)
