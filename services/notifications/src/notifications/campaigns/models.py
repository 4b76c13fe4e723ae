from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, SmallInteger, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base


class AudienceFacts(Base):
    """What a segment may ask of a customer beyond the card the projection keeps: lifecycle stage,
    products bought and the last contact (any recorded activity). Fed by the contact events; ids,
    stages, product codes and dates only, no personal data (an erasure deletes the row anyway)."""

    __tablename__ = "campaign_audience"

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    products: Mapped[list[str]] = mapped_column(ARRAY(String(100)), nullable=False, server_default="{}")
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Time of the newest card or lifecycle event applied: an older one never overwrites the stage.
    stage_as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Campaign(Base):
    """One send to a segment: a survey (questionnaire, invitations, responses), a newsletter or a
    service summary. The segment and questionnaire are kept as sent, so the report explains itself."""

    __tablename__ = "campaigns"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # survey | newsletter | service_summary
    channel: Mapped[str] = mapped_column(String(10), nullable=False)
    template: Mapped[str] = mapped_column(String(60), nullable=False)
    segment: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    questionnaire: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, server_default="[]")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    link_base: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    audience: Mapped[int] = mapped_column(Integer, nullable=False)
    invited: Mapped[int] = mapped_column(Integer, nullable=False)
    skipped: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class CampaignInvitation(Base):
    """One customer of a campaign: invited (its message queued; `id` is the token the survey link
    carries) or skipped with the reason. A survey answer naming the id marks it answered."""

    __tablename__ = "campaign_invitations"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False)  # invited | skipped
    skip_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id", name="uq_campaign_invitations_customer"),
        Index("ix_campaign_invitations_customer", "customer_id"),
    )


class CampaignAnswer(Base):
    """One answered question of an invitation (the feedback record is the answer's source)."""

    __tablename__ = "campaign_answers"

    feedback_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    invitation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    campaign_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    question: Mapped[str | None] = mapped_column(String(40), nullable=True)
    category: Mapped[str | None] = mapped_column(String(60), nullable=True)
    metric: Mapped[str] = mapped_column(String(10), nullable=False)
    score: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)

    __table_args__ = (Index("ix_campaign_answers_campaign", "campaign_id", "category"),)
