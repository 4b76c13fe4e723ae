"""The indicator system: aggregates by segment and period, thresholds, alerts.

Revision ID: 0005
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder reserved in the chain; filled in by the change it is named after


def downgrade() -> None:
    pass
