"""Management tasks (about an indicator alert or a complaint theme, no customer) and campaigns:
surveys, newsletters and service summaries to a segment, their invitations and answers, and the
audience facts segments select on (lifecycle stage, products, last contact).

Revision ID: 0006_outreach
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0006_outreach"
down_revision = "0006_console_server"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("tasks", "customer_id", existing_type=pg.UUID(as_uuid=True), nullable=True)
    op.add_column("tasks", sa.Column("subject", sa.String(300), nullable=True))
    op.create_index("ix_tasks_subject", "tasks", ["subject", "status"], postgresql_where=sa.text("subject IS NOT NULL"))
    op.create_table(
        "campaign_audience",
        sa.Column("customer_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("lifecycle_stage", sa.String(20), nullable=True),
        sa.Column("products", pg.ARRAY(sa.String(100)), nullable=False, server_default="{}"),
        sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stage_as_of", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("template", sa.String(60), nullable=False),
        sa.Column("segment", pg.JSONB, nullable=False),
        sa.Column("questionnaire", pg.JSONB, nullable=False, server_default="[]"),
        sa.Column("data", pg.JSONB, nullable=False, server_default="{}"),
        sa.Column("link_base", sa.String(1000), nullable=True),
        sa.Column("audience", sa.Integer, nullable=False),
        sa.Column("invited", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
    )
    op.create_table(
        "campaign_invitations",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("campaign_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("customer_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("skip_reason", sa.String(200), nullable=True),
        sa.Column("message_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_invitations_customer"),
    )
    op.create_index("ix_campaign_invitations_customer", "campaign_invitations", ["customer_id"])
    op.create_table(
        "campaign_answers",
        sa.Column("feedback_id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("invitation_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("campaign_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("question", sa.String(40), nullable=True),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("metric", sa.String(10), nullable=False),
        sa.Column("score", sa.SmallInteger, nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_campaign_answers_campaign", "campaign_answers", ["campaign_id", "category"])


def downgrade() -> None:
    op.drop_table("campaign_answers")
    op.drop_table("campaign_invitations")
    op.drop_table("campaigns")
    op.drop_table("campaign_audience")
    op.drop_index("ix_tasks_subject", table_name="tasks")
    op.drop_column("tasks", "subject")
    op.alter_column("tasks", "customer_id", existing_type=pg.UUID(as_uuid=True), nullable=False)
