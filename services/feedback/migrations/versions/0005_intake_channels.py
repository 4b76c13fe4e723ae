"""Survey answers, source references, products, unmatched feedback and batches.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("feedback", "customer_id", existing_type=pg.UUID(as_uuid=True), nullable=True)
    op.add_column("feedback", sa.Column("source_system", sa.String(60), nullable=True))
    op.add_column("feedback", sa.Column("product", sa.String(100), nullable=True))
    op.add_column("feedback", sa.Column("survey_metric", sa.String(10), nullable=True))
    op.add_column("feedback", sa.Column("survey_score", sa.SmallInteger, nullable=True))
    op.add_column("feedback", sa.Column("related_feedback_id", pg.UUID(as_uuid=True), nullable=True))
    op.add_column("feedback", sa.Column("caller_email", sa.String(320), nullable=True))
    op.add_column("feedback", sa.Column("caller_phone", sa.String(40), nullable=True))
    # References sent without a system (all rows before this revision) share the '' namespace.
    # External references are the source systems' own ids, so earlier rows do not repeat them.
    op.create_index(
        "ux_feedback_source_ref",
        "feedback",
        [sa.text("coalesce(source_system, '')"), "external_ref"],
        unique=True,
        postgresql_where=sa.text("external_ref IS NOT NULL"),
    )
    unmatched = sa.text("customer_id IS NULL")
    op.create_index("ix_feedback_unmatched_email", "feedback", ["caller_email"], postgresql_where=unmatched)
    op.create_index("ix_feedback_unmatched_phone", "feedback", ["caller_phone"], postgresql_where=unmatched)
    op.create_index("ix_feedback_unmatched_received", "feedback", ["received_at", "id"], postgresql_where=unmatched)


def downgrade() -> None:
    op.drop_index("ix_feedback_unmatched_received", table_name="feedback")
    op.drop_index("ix_feedback_unmatched_phone", table_name="feedback")
    op.drop_index("ix_feedback_unmatched_email", table_name="feedback")
    op.drop_index("ux_feedback_source_ref", table_name="feedback")
    # Unmatched feedback has no customer to keep it under.
    op.execute("DELETE FROM feedback WHERE customer_id IS NULL")
    for column in (
        "caller_phone",
        "caller_email",
        "related_feedback_id",
        "survey_score",
        "survey_metric",
        "product",
        "source_system",
    ):
        op.drop_column("feedback", column)
    op.alter_column("feedback", "customer_id", existing_type=pg.UUID(as_uuid=True), nullable=False)
