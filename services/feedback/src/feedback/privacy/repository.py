"""The queries that find everything feedback holds about one customer (their data export)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from crm_shared.projections import CustomerProjection
from feedback.cases.models import CaseNote, StatusChange
from feedback.records.models import Feedback
from feedback.sla.models import SlaClock


def export_queries(customer_id: uuid.UUID) -> dict[str, Select[Any]]:
    theirs = select(Feedback.id).where(Feedback.customer_id == customer_id)
    return {
        "customer_projection": select(CustomerProjection).where(CustomerProjection.customer_id == customer_id),
        "feedback": select(Feedback).where(Feedback.customer_id == customer_id).order_by(Feedback.id),
        "feedback_notes": select(CaseNote).where(CaseNote.feedback_id.in_(theirs)),
        "feedback_status_history": select(StatusChange).where(StatusChange.feedback_id.in_(theirs)),
        "sla_clocks": select(SlaClock).where(SlaClock.feedback_id.in_(theirs)),
    }
