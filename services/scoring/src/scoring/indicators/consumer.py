"""The indicators' own consumer group in the scoring worker: its offsets, retries and dead
letters are independent of the scores' consumer, so a slow indicator never delays a score."""

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope, Topics
from crm_shared.messaging.consumer import Handler
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS
from crm_shared.worker import ConsumerSpec
from scoring.indicators import service
from scoring.manifest import INDICATORS_GROUP

NAME = INDICATORS_GROUP


def _with_projection(handler: Handler) -> Handler:
    async def both(session: AsyncSession, event: Envelope) -> None:
        await CUSTOMER_PROJECTION_HANDLERS[event.type](session, event)
        await handler(session, event)

    return both


def consumer() -> ConsumerSpec:
    return ConsumerSpec(
        name=NAME,
        topics=[Topics.contacts, Topics.feedback],
        handlers={
            # The projection upsert is idempotent and guarded by `as_of`: applying it here too keeps
            # the segments of the next feedback event fresh whichever consumer runs first.
            "crm.contact.created.v1": _with_projection(service.on_contact_card),
            "crm.contact.updated.v1": _with_projection(service.on_contact_card),
            "crm.contact.lifecycle_changed.v1": service.on_lifecycle_changed,
            "crm.contact.merged.v1": service.on_contact_merged,
            "crm.contact.erased.v1": service.on_contact_erased,
            "crm.contact.activity_recorded.v1": service.on_activity_recorded,
            "crm.feedback.received.v1": service.on_feedback_received,
            "crm.feedback.status_changed.v1": service.on_status_changed,
            "crm.feedback.sla_breached.v1": service.on_sla_breached,
            "crm.feedback.compensation_paid.v1": service.on_compensation_paid,
        },
    )
