"""Every table of the feedback database (Alembic's env imports this)."""

from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent
from crm_shared.projections import CustomerAlias, CustomerProjection
from feedback.backlog.models import BacklogItem, BacklogLink
from feedback.cases.models import CaseNote, StatusChange
from feedback.records.models import Feedback
from feedback.reports.models import ThemeEscalation
from feedback.resolutions.models import CauseCode, Resolution
from feedback.sla.models import SlaClock, SlaPolicyRecord

__all__ = [
    "BacklogItem",
    "BacklogLink",
    "CaseNote",
    "CauseCode",
    "CustomerAlias",
    "CustomerProjection",
    "Feedback",
    "IdempotencyRecord",
    "OutboxMessage",
    "ProcessedEvent",
    "Resolution",
    "SlaClock",
    "SlaPolicyRecord",
    "StatusChange",
    "ThemeEscalation",
]
