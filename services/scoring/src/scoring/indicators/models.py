from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Float, Index, Integer, String, Table, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base, new_id
from crm_shared.versioning import VersionColumns
from scoring.indicators.formulas import COUNTERS

_FLOAT_COUNTERS = {
    "first_response_seconds",
    "resolution_seconds",
    "csat_sum",
    "order_value",
    "key_order_value",
    "compensation_days",
}


class IndicatorCounters(Base):
    """Sums and counts of one segment in one calendar period; indicators are computed from them.

    `dimension` is all / tier / region / industry / owner, `segment` its value ('' for all);
    one column per name in `formulas.COUNTERS`.
    """

    __table__ = Table(
        "indicator_counters",
        Base.metadata,
        Column("dimension", String(20), primary_key=True),
        Column("segment", String(200), primary_key=True),
        Column("period", String(10), primary_key=True),
        Column("period_start", DateTime(timezone=True), primary_key=True),
        *(
            Column(name, Float if name in _FLOAT_COUNTERS else BigInteger, nullable=False, server_default="0")
            for name in COUNTERS
        ),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_indicator_counters_period", "dimension", "period", "period_start", "segment"),
    )


class IndicatorSegment(Base):
    """Active customers of a segment now (a gauge): the base of the per-100-customers rates."""

    __tablename__ = "indicator_segments"

    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    segment: Mapped[str] = mapped_column(String(200), primary_key=True)
    active_customers: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class IndicatorCustomer(Base):
    """Where this consumer last counted a customer (segments and lifecycle stage), so a changed
    card moves the customer between segments exactly once. No personal data: ids and segments."""

    __tablename__ = "indicator_customers"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    tier: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(200), nullable=False)
    industry: Mapped[str] = mapped_column(String(200), nullable=False)
    owner: Mapped[str] = mapped_column(String(200), nullable=False)
    stage: Mapped[str] = mapped_column(String(20), nullable=False)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class IndicatorCustomerOrders(Base):
    """Orders of one customer in one period: the second order makes the customer a repeat buyer."""

    __tablename__ = "indicator_customer_orders"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class IndicatorComplaint(Base):
    """One complaint's clocks as the indicators saw them: when it arrived, in which segments, and
    whether its first response / resolution was already counted (met or breached)."""

    __tablename__ = "indicator_complaints"

    feedback_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    tier: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(200), nullable=False)
    industry: Mapped[str] = mapped_column(String(200), nullable=False)
    owner: Mapped[str] = mapped_column(String(200), nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    first_response_sla: Mapped[str | None] = mapped_column(String(10), nullable=True)  # met | breached
    resolution_sla: Mapped[str | None] = mapped_column(String(10), nullable=True)


class IndicatorThresholdVersion(VersionColumns, Base):
    """Every threshold ever set (who, when): the newest version per indicator is in force."""

    __tablename__ = "indicator_thresholds"

    indicator: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    min_sample: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)


class IndicatorSegmentThresholdVersion(VersionColumns, Base):
    """A stricter (or looser) threshold for one segment of an indicator, e.g. the complaint rate of
    key accounts: it replaces the indicator's threshold for that segment only. `scope` is
    `<indicator>/<dimension>/<segment>`, one series of versions each; `removed` ends the override."""

    __tablename__ = "indicator_segment_thresholds"

    scope: Mapped[str] = mapped_column(String(300), primary_key=True)
    indicator: Mapped[str] = mapped_column(String(60), nullable=False)
    dimension: Mapped[str] = mapped_column(String(20), nullable=False)
    segment: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    min_sample: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class IndicatorAlertState(Base):
    """One row per (indicator, dimension, segment): locked while deciding, so a crossing is
    announced once even when two consumers update the same segment at the same moment."""

    __tablename__ = "indicator_alert_state"

    indicator: Mapped[str] = mapped_column(String(60), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(20), primary_key=True)
    segment: Mapped[str] = mapped_column(String(200), primary_key=True)
    open_alert_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)


class IndicatorAlert(Base):
    """An indicator outside its threshold: open from the crossing until it came back inside."""

    __tablename__ = "indicator_alerts"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    indicator: Mapped[str] = mapped_column(String(60), nullable=False)
    dimension: Mapped[str] = mapped_column(String(20), nullable=False)
    segment: Mapped[str] = mapped_column(String(200), nullable=False)
    period: Mapped[str] = mapped_column(String(10), nullable=False)
    period_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    period_end: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False)  # open | closed
    value: Mapped[float] = mapped_column(Float, nullable=False)
    sample_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    direction: Mapped[str] = mapped_column(String(10), nullable=False)
    threshold_version: Mapped[int] = mapped_column(Integer, nullable=False)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    recovered_value: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_indicator_alerts_state_opened", "state", "opened_at", "id"),)
