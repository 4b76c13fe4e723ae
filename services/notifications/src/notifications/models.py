"""Every table of the notifications database (Alembic's env imports this)."""

from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent
from crm_shared.projections import CustomerAlias, CustomerProjection
from notifications.playbooks.models import PlaybookEffect, PlaybookState, PlaybookVersion
from notifications.tasks.models import Task
from notifications.teams.models import Team

__all__ = [
    "CustomerAlias",
    "CustomerProjection",
    "IdempotencyRecord",
    "OutboxMessage",
    "PlaybookEffect",
    "PlaybookState",
    "PlaybookVersion",
    "ProcessedEvent",
    "Task",
    "Team",
]
