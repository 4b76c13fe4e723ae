"""Scorecards (versioned models), the five scores' inputs, rescore runs.

The first model's aggregates move into `customer_scores.inputs`: its severity-weighted complaint
sum is stored as medium-complaint weight (weight 2 under scorecard 1, so the sum is unchanged),
praise as praise. Loyalty, value and churn risk start at 0 and a queued rescore run (scorecard 1)
recomputes every existing customer once the worker starts.

Revision ID: 0004
"""

import uuid

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Scorecard 1, literally (a migration never imports the model: its meaning must not change).
SCORECARD_1 = {
    "weights": {"satisfaction": 0.45, "loyalty": 0.1, "value": 0.1, "retention": 0.35},
    "bands": {"healthy": 65.0, "watch": 48.0, "at_risk": 30.0},
    "half_lives": {"feedback_days": 90.0, "trend_days": 14.0, "activity_days": 180.0},
    "severity_weights": {"low": 1.0, "medium": 2.0, "high": 4.0, "critical": 8.0},
    "satisfaction": {
        "baseline": 75.0,
        "complaint_scale": 8.0,
        "praise_scale": 4.0,
        "reopen_weight": 2.0,
        "fast_resolution_credit": 1.0,
        "fast_resolution_hours": 24.0,
        "survey_points": 15.0,
        "survey_prior": 2.0,
    },
    "loyalty": {
        "tenure_points": 30.0,
        "tenure_scale_years": 2.0,
        "contract_points": 25.0,
        "contract_full_years": 2.0,
        "renewal_points": 15.0,
        "renewal_scale": 2.0,
        "repeat_points": 20.0,
        "repeat_scale": 3.0,
        "recency_points": 10.0,
        "recency_half_life_days": 90.0,
    },
    "value": {
        "monetary_points": 40.0,
        "revenue_scale": 50000.0,
        "frequency_points": 20.0,
        "frequency_scale": 4.0,
        "recency_points": 15.0,
        "recency_half_life_days": 90.0,
        "potential_key": 25.0,
        "potential_gold": 18.0,
        "potential_silver": 10.0,
        "potential_bronze": 4.0,
    },
    "churn": {
        "dissatisfaction_factor": 0.5,
        "trend_points": 20.0,
        "trend_scale": 4.0,
        "open_case_factor": 3.0,
        "breached_case_points": 10.0,
        "open_cases_cap": 30.0,
        "inactivity_points": 20.0,
        "inactivity_min_interval_days": 30.0,
        "credit_watch": 10.0,
        "credit_poor": 25.0,
        "lifecycle_at_risk": 20.0,
        "lifecycle_churned": 40.0,
        "lifecycle_won_back": 10.0,
    },
}


def upgrade() -> None:
    op.create_table(
        "scorecards",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("config", pg.JSONB, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    scorecards = sa.table(
        "scorecards",
        sa.column("version", sa.Integer),
        sa.column("config", pg.JSONB),
        sa.column("comment", sa.Text),
        sa.column("created_by", sa.String),
    )
    op.bulk_insert(
        scorecards, [{"version": 1, "config": SCORECARD_1, "comment": "initial scorecard", "created_by": "migration"}]
    )
    op.create_table(
        "rescore_runs",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("scorecard_version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("cursor", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("correlation_id", sa.String(200), nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_rescore_runs_status", "rescore_runs", ["status", "created_at"])

    for name in ("loyalty", "value", "churn_risk"):
        op.add_column("customer_scores", sa.Column(name, sa.Float, nullable=False, server_default="0"))
        op.alter_column("customer_scores", name, server_default=None)
    op.add_column("customer_scores", sa.Column("inputs", pg.JSONB, nullable=False, server_default="{}"))
    op.add_column("customer_scores", sa.Column("scorecard_version", sa.Integer, nullable=False, server_default="1"))
    op.add_column("customer_scores", sa.Column("recent_causes", pg.JSONB, nullable=False, server_default="[]"))
    op.execute(
        """
        UPDATE customer_scores SET inputs = jsonb_build_object(
            'as_of', inputs_as_of,
            'complaints', jsonb_build_object('low', 0.0, 'medium', complaint_weight / 2, 'high', 0.0, 'critical', 0.0),
            'complaint_count', complaints,
            'praise', praise_weight,
            'praise_count', praises)
        """
    )
    for name in ("inputs", "scorecard_version", "recent_causes"):
        op.alter_column("customer_scores", name, server_default=None)
    for name in ("complaint_weight", "praise_weight", "complaints", "praises"):
        op.drop_column("customer_scores", name)

    for name in ("loyalty", "value", "churn_risk", "previous_loyalty", "previous_value", "previous_churn_risk"):
        op.add_column("score_history", sa.Column(name, sa.Float, nullable=True))
    op.add_column("score_history", sa.Column("changed", pg.JSONB, nullable=False, server_default="[]"))
    op.alter_column("score_history", "changed", server_default=None)
    op.add_column("score_history", sa.Column("rescore_run_id", pg.UUID(as_uuid=True), nullable=True))
    op.add_column("score_history", sa.Column("scorecard_version", sa.Integer, nullable=True))

    op.execute(
        sa.text(
            "INSERT INTO rescore_runs (id, scorecard_version, status, total, done, changed, requested_by, correlation_id)"
            " SELECT CAST(:id AS uuid), 1, 'queued', count(*), 0, 0, 'migration', 'migration-0004' FROM customer_scores"
            " HAVING count(*) > 0"
        ).bindparams(id=str(uuid.uuid4()))
    )


def downgrade() -> None:
    for name in ("scorecard_version", "rescore_run_id", "changed", "previous_churn_risk", "previous_value"):
        op.drop_column("score_history", name)
    for name in ("previous_loyalty", "churn_risk", "value", "loyalty"):
        op.drop_column("score_history", name)
    op.add_column("customer_scores", sa.Column("complaint_weight", sa.Float, nullable=False, server_default="0"))
    op.add_column("customer_scores", sa.Column("praise_weight", sa.Float, nullable=False, server_default="0"))
    op.add_column("customer_scores", sa.Column("complaints", sa.Integer, nullable=False, server_default="0"))
    op.add_column("customer_scores", sa.Column("praises", sa.Integer, nullable=False, server_default="0"))
    op.execute(
        """
        UPDATE customer_scores SET
            complaint_weight = coalesce((inputs->'complaints'->>'low')::float, 0)
                + 2 * coalesce((inputs->'complaints'->>'medium')::float, 0)
                + 4 * coalesce((inputs->'complaints'->>'high')::float, 0)
                + 8 * coalesce((inputs->'complaints'->>'critical')::float, 0),
            praise_weight = coalesce((inputs->>'praise')::float, 0),
            complaints = coalesce((inputs->>'complaint_count')::int, 0),
            praises = coalesce((inputs->>'praise_count')::int, 0)
        """
    )
    for name in ("recent_causes", "scorecard_version", "inputs", "churn_risk", "value", "loyalty"):
        op.drop_column("customer_scores", name)
    op.drop_table("rescore_runs")
    op.drop_table("scorecards")
