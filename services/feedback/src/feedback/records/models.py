from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, SmallInteger, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Base, new_id, utcnow


class Feedback(Base):
    __tablename__ = "feedback"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=new_id)
    # NULL while the caller is unknown ("unmatched"): the feedback waits for its customer to appear
    # in contacts, matched on the caller's identifiers below.
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    category: Mapped[str | None] = mapped_column(String(60), nullable=True)
    severity: Mapped[str] = mapped_column(String(20), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    external_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # (source_system, external_ref) is unique: a call centre re-sending a record stores it once.
    source_system: Mapped[str | None] = mapped_column(String(60), nullable=True)
    product: Mapped[str | None] = mapped_column(String(100), nullable=True)
    survey_metric: Mapped[str | None] = mapped_column(String(10), nullable=True)
    survey_score: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    # The complaint a satisfaction follow-up answers (same customer).
    related_feedback_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    # The campaign invitation a survey answer responds to, and the questionnaire's question key
    # (docs/domain.md#survey-campaigns): the campaign counts the response and its result.
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), nullable=True)
    question: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # The caller's normalised identifiers, kept while unmatched so the customer can be found later.
    caller_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    caller_phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Complaints are cases (received -> ... -> closed); other kinds are simply recorded.
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    # The customer's tier when the feedback arrived: SLA and reporting use the tier of the time.
    # Unmatched feedback holds the lowest tier (it promises nothing) until its customer appears.
    customer_tier: Mapped[str] = mapped_column(String(20), nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, server_default=func.now(), nullable=False
    )

    __table_args__ = (
        Index("ix_feedback_customer_received", "customer_id", "received_at", "id"),
        Index(
            "ux_feedback_source_ref",
            text("coalesce(source_system, '')"),
            "external_ref",
            unique=True,
            postgresql_where=text("external_ref IS NOT NULL"),
        ),
        Index("ix_feedback_unmatched_email", "caller_email", postgresql_where=text("customer_id IS NULL")),
        Index("ix_feedback_unmatched_phone", "caller_phone", postgresql_where=text("customer_id IS NULL")),
        Index("ix_feedback_unmatched_received", "received_at", "id", postgresql_where=text("customer_id IS NULL")),
        # Each complaint counts its theme over 30 days (reports/service.py: escalate_recurring_theme).
        Index(
            "ix_feedback_complaint_theme",
            "category",
            "product",
            "received_at",
            postgresql_where=text("type = 'complaint'"),
        ),
    )

    @property
    def survey(self) -> dict[str, Any] | None:
        """The answer as one object for the API and the event; two columns for the reports' SQL."""
        if self.survey_metric is None:
            return None
        return {"metric": self.survey_metric, "score": self.survey_score}

    @property
    def caller(self) -> dict[str, Any] | None:
        """Shown only while unmatched: what someone needs to find the customer by hand."""
        if self.customer_id is not None or (self.caller_email is None and self.caller_phone is None):
            return None
        return {"email": self.caller_email, "phone": self.caller_phone}
