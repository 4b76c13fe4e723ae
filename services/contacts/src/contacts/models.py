"""Every table of the contacts database (Alembic's env imports this)."""

from contacts.activity_records.models import Activity
from contacts.audit.models import AuditEntry
from contacts.customer_records.models import Customer, CustomerExternalId, SecondaryIdentifier
from contacts.imports.models import ImportJob, ImportRow, ImportRowError
from contacts.lifecycle.models import LifecycleRulesRecord
from contacts.tiers.models import TierRulesRecord
from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent

__all__ = [
    "Activity",
    "AuditEntry",
    "Customer",
    "CustomerExternalId",
    "IdempotencyRecord",
    "ImportJob",
    "ImportRow",
    "ImportRowError",
    "LifecycleRulesRecord",
    "OutboxMessage",
    "ProcessedEvent",
    "SecondaryIdentifier",
    "TierRulesRecord",
]
