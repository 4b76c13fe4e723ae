"""Every table of the notifications database (Alembic's env imports this)."""

from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent
from crm_shared.projections import CustomerAlias, CustomerProjection
from notifications.tasks.models import Task

__all__ = ["CustomerAlias", "CustomerProjection", "IdempotencyRecord", "OutboxMessage", "ProcessedEvent", "Task"]
