"""Every table of the contacts database (Alembic's env imports this)."""

from contacts.audit.models import AuditEntry
from contacts.customers.models import Customer, CustomerExternalId
from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent

__all__ = ["AuditEntry", "Customer", "CustomerExternalId", "IdempotencyRecord", "OutboxMessage", "ProcessedEvent"]
