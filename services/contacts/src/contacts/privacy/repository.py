"""The queries that find everything contacts holds about one customer (their data export)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from contacts.activity_records.models import Activity
from contacts.audit.models import AuditEntry
from contacts.customer_records.models import Customer, CustomerExternalId, SecondaryIdentifier


def export_queries(customer_id: uuid.UUID) -> dict[str, Select[Any]]:
    return {
        "customers": select(Customer).where(Customer.id == customer_id),
        "customer_external_ids": select(CustomerExternalId).where(CustomerExternalId.customer_id == customer_id),
        "customer_secondary_identifiers": select(SecondaryIdentifier).where(
            SecondaryIdentifier.customer_id == customer_id
        ),
        "activities": select(Activity).where(Activity.customer_id == customer_id).order_by(Activity.occurred_at),
        "customer_audit": select(AuditEntry).where(AuditEntry.customer_id == customer_id),
    }
