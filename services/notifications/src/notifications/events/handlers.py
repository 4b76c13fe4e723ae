"""Events the notifications service consumes.

Task events (crm.outreach) are not consumed here, so a task can never re-trigger the playbook
that made it.
"""

from crm_shared.contracts import EVENT_PAYLOADS, Topics
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS
from crm_shared.worker import ConsumerSpec
from notifications.tasks import service
from notifications.webhooks import service as webhooks


def consumers() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="notifications-worker",
            topics=[Topics.contacts, Topics.feedback, Topics.scores],
            handlers={
                **CUSTOMER_PROJECTION_HANDLERS,
                "crm.feedback.received.v1": service.on_feedback_received,
                "crm.feedback.status_changed.v1": service.on_feedback_status_changed,
                "crm.score.changed.v1": service.on_score_changed,
                "crm.contact.merged.v1": service.on_contact_merged,
                "crm.contact.erased.v1": service.on_contact_erased,
            },
        ),
        # Its own group, so a slow or failing subscriber never holds up the task playbooks.
        ConsumerSpec(
            name="notifications-webhooks",
            topics=Topics.all(),
            handlers=dict.fromkeys(EVENT_PAYLOADS, webhooks.on_event),
        ),
    ]
