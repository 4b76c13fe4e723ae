"""Events the scoring service consumes."""

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope, Topics
from crm_shared.projections import on_contact_created as project_contact
from crm_shared.projections import on_contact_updated as project_update
from crm_shared.worker import ConsumerSpec
from scoring.indicators.consumer import consumer as indicators_consumer
from scoring.manifest import WORKER_GROUP
from scoring.scores import service


async def on_contact_created(session: AsyncSession, event: Envelope) -> None:
    await project_contact(session, event)
    await service.on_contact_created(session, event)


async def on_contact_updated(session: AsyncSession, event: Envelope) -> None:
    await project_update(session, event)
    await service.on_contact_updated(session, event)


def consumers() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name=WORKER_GROUP,
            topics=[Topics.contacts, Topics.feedback],
            handlers={
                "crm.contact.created.v1": on_contact_created,
                "crm.contact.updated.v1": on_contact_updated,
                "crm.contact.merged.v1": service.on_contact_merged,
                "crm.contact.erased.v1": service.on_contact_erased,
                "crm.contact.activity_recorded.v1": service.on_activity_recorded,
                "crm.contact.credit_changed.v1": service.on_credit_changed,
                "crm.contact.lifecycle_changed.v1": service.on_lifecycle_changed,
                "crm.feedback.received.v1": service.on_feedback_received,
                "crm.feedback.status_changed.v1": service.on_feedback_status_changed,
                "crm.feedback.sla_breached.v1": service.on_sla_breached,
            },
        ),
        indicators_consumer(),
    ]
