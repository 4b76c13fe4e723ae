"""Scorecards (versioned models), the five scores' inputs, rescore runs.

Revision ID: 0004
"""

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder reserved in the chain; filled in by the change it is named after


def downgrade() -> None:
    pass
