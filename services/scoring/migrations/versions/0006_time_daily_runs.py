"""Time-aware scoring: daily runs (rescore runs of kind `daily`, evaluated at `as_of`, scheduled
once per day by `schedule_key`) and the indexes of the score work-lists (GET /v1/scores).

Revision ID: 0006_time
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0006_time"
down_revision = "0006_limits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("rescore_runs", sa.Column("kind", sa.String(20), nullable=False, server_default="rescore"))
    op.add_column("rescore_runs", sa.Column("as_of", sa.DateTime(timezone=True), nullable=True))
    op.add_column("rescore_runs", sa.Column("schedule_key", sa.String(100), nullable=True))
    op.add_column("rescore_runs", sa.Column("customer_ids", pg.JSONB(), nullable=True))
    op.create_unique_constraint("uq_rescore_runs_schedule_key", "rescore_runs", ["schedule_key"])
    for column in ("value", "churn_risk", "health"):
        op.create_index(f"ix_customer_scores_{column}", "customer_scores", [column, "customer_id"])


def downgrade() -> None:
    for column in ("value", "churn_risk", "health"):
        op.drop_index(f"ix_customer_scores_{column}", table_name="customer_scores")
    op.drop_constraint("uq_rescore_runs_schedule_key", "rescore_runs", type_="unique")
    for column in ("customer_ids", "schedule_key", "as_of", "kind"):
        op.drop_column("rescore_runs", column)
