"""Every table of the feedback database (Alembic's env imports this)."""

from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent
from crm_shared.projections import CustomerAlias, CustomerProjection
from feedback.intake.models import Feedback

__all__ = ["CustomerAlias", "CustomerProjection", "Feedback", "IdempotencyRecord", "OutboxMessage", "ProcessedEvent"]
