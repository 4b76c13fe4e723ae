"""The indicator system: aggregates by segment and period, thresholds, alerts.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Spelt out (not imported from the models), so this migration keeps its meaning.
_COUNTS = (
    "complaints",
    "first_responses",
    "resolutions",
    "sla_met",
    "sla_breached",
    "csat_answers",
    "csat_satisfied",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
    "customers_at_start",
    "customers_joined",
    "customers_churned",
    "buyers",
    "repeat_buyers",
    "orders",
)
_SUMS = ("first_response_seconds", "resolution_seconds", "csat_sum", "order_value", "key_order_value")


def _segments() -> list[sa.Column]:
    return [sa.Column(name, sa.String(200), nullable=False) for name in ("tier", "region", "industry", "owner")]


def upgrade() -> None:
    op.create_table(
        "indicator_counters",
        sa.Column("dimension", sa.String(20), primary_key=True),
        sa.Column("segment", sa.String(200), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("period_start", sa.DateTime(timezone=True), primary_key=True),
        *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in _COUNTS),
        *(sa.Column(name, sa.Float, nullable=False, server_default="0") for name in _SUMS),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index(
        "ix_indicator_counters_period", "indicator_counters", ["dimension", "period", "period_start", "segment"]
    )
    op.create_table(
        "indicator_segments",
        sa.Column("dimension", sa.String(20), primary_key=True),
        sa.Column("segment", sa.String(200), primary_key=True),
        sa.Column("active_customers", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "indicator_customers",
        sa.Column("customer_id", pg.UUID(as_uuid=True), primary_key=True),
        *_segments(),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "indicator_customer_orders",
        sa.Column("customer_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("period", sa.String(10), primary_key=True),
        sa.Column("period_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("orders", sa.Integer, nullable=False),
    )
    op.create_table(
        "indicator_complaints",
        sa.Column("feedback_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        *_segments(),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_sla", sa.String(10), nullable=True),
        sa.Column("resolution_sla", sa.String(10), nullable=True),
    )
    op.create_table(
        "indicator_thresholds",
        sa.Column("indicator", sa.String(60), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("min_sample", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "indicator_alert_state",
        sa.Column("indicator", sa.String(60), primary_key=True),
        sa.Column("dimension", sa.String(20), primary_key=True),
        sa.Column("segment", sa.String(200), primary_key=True),
        sa.Column("open_alert_id", pg.UUID(as_uuid=True), nullable=True),
    )
    op.create_table(
        "indicator_alerts",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("indicator", sa.String(60), nullable=False),
        sa.Column("dimension", sa.String(20), nullable=False),
        sa.Column("segment", sa.String(200), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("sample_size", sa.BigInteger, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("threshold_version", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recovered_value", sa.Float, nullable=True),
    )
    op.create_index("ix_indicator_alerts_state_opened", "indicator_alerts", ["state", "opened_at", "id"])


def downgrade() -> None:
    for table in (
        "indicator_alerts",
        "indicator_alert_state",
        "indicator_thresholds",
        "indicator_complaints",
        "indicator_customer_orders",
        "indicator_customers",
        "indicator_segments",
        "indicator_counters",
    ):
        op.drop_table(table)
