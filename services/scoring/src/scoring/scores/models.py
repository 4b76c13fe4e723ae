from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Float, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base, new_id
from crm_shared.versioning import VersionColumns


class CustomerScore(Base):
    """The current scores of a customer, with the raw inputs they are computed from."""

    __tablename__ = "customer_scores"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    satisfaction: Mapped[float] = mapped_column(Float, nullable=False)
    loyalty: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    value: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    churn_risk: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    health: Mapped[float] = mapped_column(Float, nullable=False)
    band: Mapped[str] = mapped_column(String(20), nullable=False)
    # calculation.Inputs.to_json(): decayed sums, counters, timestamps, open cases, the card's profile
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    inputs_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    scorecard_version: Mapped[int] = mapped_column(Integer, nullable=False)
    model_version: Mapped[str] = mapped_column(String(40), nullable=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    # the last events that moved a score: [{"id", "type", "at"}], newest first, at most 10
    recent_causes: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    last_event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)

    # the work-lists sort by these (GET /v1/scores)
    __table_args__ = tuple(
        Index(f"ix_customer_scores_{c}", c, "customer_id") for c in ("value", "churn_risk", "health")
    )


class ScoreHistory(Base):
    """One row per change: what the scores became, from what, and which event (or run) moved them."""

    __tablename__ = "score_history"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    satisfaction: Mapped[float] = mapped_column(Float, nullable=False)
    loyalty: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    churn_risk: Mapped[float | None] = mapped_column(Float, nullable=True)
    health: Mapped[float] = mapped_column(Float, nullable=False)
    band: Mapped[str] = mapped_column(String(20), nullable=False)
    previous_satisfaction: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_loyalty: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_churn_risk: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_health: Mapped[float | None] = mapped_column(Float, nullable=True)
    previous_band: Mapped[str | None] = mapped_column(String(20), nullable=True)
    changed: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    cause_event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    cause_event_type: Mapped[str] = mapped_column(String(200), nullable=False)
    rescore_run_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    scorecard_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model_version: Mapped[str] = mapped_column(String(40), nullable=False)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)

    __table_args__ = (Index("ix_score_history_customer", "customer_id", "computed_at", "id"),)


class ScorecardVersion(VersionColumns, Base):
    """One version of the scoring model's parameters; the highest version is the current one."""

    __tablename__ = "scorecards"

    config: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The table's default (its migration) is the database's clock, unlike the other versioned tables.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class RescoreRun(Base):
    """Every customer recomputed with one scorecard version, batch by batch in the worker."""

    __tablename__ = "rescore_runs"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    scorecard_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # queued -> running -> done; superseded when a newer scorecard came first; failed on a bug
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # the last customer id of the last committed batch: a crash resumes after it
    cursor: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    requested_by: Mapped[str] = mapped_column(String(200), nullable=False)
    # `rescore` (a model change) or `daily` (every customer evaluated at `as_of`: time-aware scoring)
    kind: Mapped[str] = mapped_column(String(20), nullable=False, server_default="rescore", default="rescore")
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # `daily:<date>` for the worker's scheduled run: one per day, however many workers schedule it
    schedule_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    # a daily run on demand may name its customers (ids as strings); null: every customer
    customer_ids: Mapped[list[str] | None] = mapped_column(JSONB, nullable=True)
    correlation_id: Mapped[str] = mapped_column(String(200), nullable=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_rescore_runs_status", "status", "created_at"),)
