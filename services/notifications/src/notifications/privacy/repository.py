"""The queries that find everything notifications holds about one customer (their data export).

Webhook subscriptions and their signing secrets belong to integrations, not to the customer: only
the deliveries that carried the customer's events are theirs.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select

from crm_shared.projections import CustomerProjection
from notifications.messages.models import Message, MessageAttempt
from notifications.tasks.models import Task
from notifications.webhooks.models import WebhookDelivery


def export_queries(customer_id: uuid.UUID) -> dict[str, Select[Any]]:
    theirs = select(Message.id).where(Message.customer_id == customer_id)
    return {
        "customer_projection": select(CustomerProjection).where(CustomerProjection.customer_id == customer_id),
        "messages": select(Message).where(Message.customer_id == customer_id),
        "message_attempts": select(MessageAttempt).where(MessageAttempt.message_id.in_(theirs)),
        "tasks": select(Task).where(Task.customer_id == customer_id),
        "webhook_deliveries": select(WebhookDelivery).where(WebhookDelivery.customer_id == customer_id),
    }
