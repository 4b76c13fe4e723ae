"""Activities (orders, contracts, visits, calls) and the tier rules.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CUSTOMER_COLUMNS = [
    sa.Column("strategic", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("potential", sa.Numeric(18, 2), nullable=True),
    sa.Column("tier_override_reason", sa.String(500), nullable=True),
    sa.Column("tier_override_by", sa.String(200), nullable=True),
    sa.Column("tier_override_at", sa.DateTime(timezone=True), nullable=True),
]


def upgrade() -> None:
    for column in CUSTOMER_COLUMNS:
        op.add_column("customers", column)
    # Tiers set before the rules existed were set by people: they stay until someone hands them back.
    op.execute(
        "UPDATE customers SET tier_override_reason = 'set before the tier rules existed', "
        "tier_override_by = 'migration', tier_override_at = now() WHERE tier <> 'bronze'"
    )

    op.create_table(
        "activities",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "customer_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("customers.id", ondelete="CASCADE", name="fk_activities_customer_id_customers"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", pg.JSONB, nullable=False),
        sa.Column("external_ref", sa.String(200), nullable=True),
        sa.Column("amount", sa.Numeric(20, 4), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("starts_on", sa.Date, nullable=True),
        sa.Column("ends_on", sa.Date, nullable=True),
        sa.Column(
            "renewal_of",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("activities.id", name="fk_activities_renewal_of_activities"),
            nullable=True,
        ),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
    )
    op.create_index(
        "uq_activities_customer_external_ref",
        "activities",
        ["customer_id", "external_ref"],
        unique=True,
        postgresql_where=sa.text("external_ref IS NOT NULL"),
    )
    op.create_index(
        "ix_activities_customer_occurred",
        "activities",
        ["customer_id", sa.text("occurred_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_activities_renewal_of", "activities", ["renewal_of"], postgresql_where=sa.text("renewal_of IS NOT NULL")
    )

    op.create_table(
        "tier_rules",
        sa.Column("version", sa.Integer, autoincrement=False),
        sa.Column("rules", pg.JSONB, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_tier_rules"),
    )


def downgrade() -> None:
    op.drop_table("tier_rules")
    op.drop_index("ix_activities_renewal_of", "activities")
    op.drop_index("ix_activities_customer_occurred", "activities")
    op.drop_index("uq_activities_customer_external_ref", "activities")
    op.drop_table("activities")
    for column in reversed(CUSTOMER_COLUMNS):
        op.drop_column("customers", column.name)
