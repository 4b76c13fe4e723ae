"""Events the notifications service consumes.

Task events (crm.outreach) are not consumed here, so a task can never re-trigger the playbook
that made it.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope, Topics
from crm_shared.contracts.events import ScoreChangedV1, ScoreChangedV2, ScoreValues
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS, get_customer
from crm_shared.worker import ConsumerSpec
from notifications.tasks import playbooks, service


async def on_score_changed_v2(session: AsyncSession, event: Envelope) -> None:
    """Scoring publishes v2 only: the band-drop playbook reads the band transition as it did from v1.
    A rescore run (a new scorecard) is a model change, not news about the customer: no task."""
    change = event.payload()
    assert isinstance(change, ScoreChangedV2)
    if change.rescore_run_id is not None:
        return
    as_v1 = ScoreChangedV1(
        customer_id=change.customer_id,
        model_version=change.model_version,
        previous=ScoreValues(
            satisfaction=change.previous.satisfaction, health=change.previous.health, band=change.previous.band
        )
        if change.previous
        else None,
        current=ScoreValues(
            satisfaction=change.current.satisfaction, health=change.current.health, band=change.current.band
        ),
        band_from=change.band_from,
        band_to=change.band_to,
        cause_event_id=change.cause_event_id,
        cause_event_type=change.cause_event_type,
        computed_at=change.computed_at,
    )
    plans = playbooks.plan_for_score_change(as_v1)
    if plans:
        customer = await get_customer(session, change.customer_id)
        await service._create(session, change.customer_id, plans, event, customer.owner if customer else None)


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
                "crm.score.changed.v2": on_score_changed_v2,
                "crm.contact.merged.v1": service.on_contact_merged,
                "crm.contact.erased.v1": service.on_contact_erased,
            },
        )
    ]
