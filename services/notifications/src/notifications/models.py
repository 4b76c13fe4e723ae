"""Every table of the notifications database (Alembic's env imports this)."""

from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.messaging.models import OutboxMessage, ProcessedEvent
from crm_shared.projections import CustomerAlias, CustomerProjection
from notifications.campaigns.models import AudienceFacts, Campaign, CampaignAnswer, CampaignInvitation
from notifications.messages.models import Message, MessageAttempt, MessageTemplate, StaffMember
from notifications.playbooks.models import PlaybookEffect, PlaybookState, PlaybookVersion
from notifications.renewals.models import ContractRenewal
from notifications.tasks.models import Task
from notifications.teams.models import Team
from notifications.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "AudienceFacts",
    "Campaign",
    "CampaignAnswer",
    "CampaignInvitation",
    "ContractRenewal",
    "CustomerAlias",
    "CustomerProjection",
    "IdempotencyRecord",
    "Message",
    "MessageAttempt",
    "MessageTemplate",
    "OutboxMessage",
    "PlaybookEffect",
    "PlaybookState",
    "PlaybookVersion",
    "ProcessedEvent",
    "StaffMember",
    "Task",
    "Team",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
