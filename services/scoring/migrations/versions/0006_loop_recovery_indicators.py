"""Recovery indicators: reopens, compensations paid and their days, per segment and period.

Revision ID: 0006_loop
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_loop"
down_revision = "0006_console_server"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("indicator_counters", sa.Column("reopens", sa.BigInteger, nullable=False, server_default="0"))
    op.add_column(
        "indicator_counters", sa.Column("compensations_paid", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column("indicator_counters", sa.Column("compensation_days", sa.Float, nullable=False, server_default="0"))


def downgrade() -> None:
    for name in ("compensation_days", "compensations_paid", "reopens"):
        op.drop_column("indicator_counters", name)
