"""Customer language (BCP 47) and time zone (IANA), for messages and their quiet hours.

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("language", sa.String(35), nullable=True))
    op.add_column("customers", sa.Column("timezone", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "timezone")
    op.drop_column("customers", "language")
