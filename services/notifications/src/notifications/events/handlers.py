"""Events the notifications service consumes.

Every event type a playbook can trigger on goes to the playbook engine. Task events
(crm.outreach) are not consumed here, so a task can never re-trigger the playbook that made it;
the engine also follows causation ids for events that stem from a task by another route.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import EVENT_PAYLOADS, Envelope, Topics
from crm_shared.contracts.events import IndicatorThresholdCrossedV1
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS
from crm_shared.worker import ConsumerSpec
from notifications.automation.engine import on_trigger_event
from notifications.campaigns import service as campaigns
from notifications.manifest import WEBHOOKS_GROUP, WORKER_GROUP
from notifications.messages import service as messages
from notifications.playbooks import rules
from notifications.renewals import service as renewals
from notifications.renewals.repository import RenewalRepository
from notifications.tasks import service
from notifications.webhooks import service as webhooks
from notifications.webhooks import watch
from notifications.webhooks.watch import SubscribedHandlers


async def on_indicator_alert(session: AsyncSession, event: Envelope) -> None:
    """A recovery first closes the tasks of the crossing (so a playbook on `recovered` may open new
    ones), then the playbooks run as for any trigger."""
    alert = event.payload()
    assert isinstance(alert, IndicatorThresholdCrossedV1)
    if alert.state == "recovered":
        await service.close_recovered_alert(session, event)
    await on_trigger_event(session, event)


async def on_contact_merged(session: AsyncSession, event: Envelope) -> None:
    """Tasks (and the customer projection), messages and webhook deliveries move to the survivor."""
    merged_id, survivor_id = await service.on_contact_merged(session, event)
    await RenewalRepository(session).move_customer(merged_id, survivor_id)
    await messages.on_customer_merged(session, merged_id, survivor_id)
    await campaigns.on_customer_merged(session, merged_id, survivor_id)
    await webhooks.on_customer_merged(session, merged_id, survivor_id)


async def on_contact_erased(session: AsyncSession, event: Envelope) -> None:
    """Tasks and messages lose the customer's personal data; webhook deliveries of the customer's
    events are cancelled or reduced to id and type."""
    erased_ids = await service.on_contact_erased(session, event)
    await messages.on_customer_erased(session, erased_ids)
    await campaigns.on_customer_erased(session, erased_ids)
    await webhooks.on_customer_erased(session, erased_ids)


async def on_contact_card(session: AsyncSession, event: Envelope) -> None:
    """The projection's card, and the lifecycle stage campaign segments select on."""
    await CUSTOMER_PROJECTION_HANDLERS[event.type](session, event)
    await campaigns.on_card(session, event)


async def on_lifecycle_changed(session: AsyncSession, event: Envelope) -> None:
    await campaigns.on_lifecycle_changed(session, event)
    await on_trigger_event(session, event)


async def on_activity_recorded(session: AsyncSession, event: Envelope) -> None:
    """A contract may need a renewal task later; an order or a contact moves a campaign segment's
    facts; any activity may trigger a playbook (a key account's visit with findings schedules the next one)."""
    await renewals.on_activity_recorded(session, event)
    await campaigns.on_activity_recorded(session, event)
    await on_trigger_event(session, event)


def consumers() -> list[ConsumerSpec]:
    triggers = {event: on_trigger_event for event in (*rules.TRIGGER_EVENTS, *rules.EVENT_ALIASES)}
    return [
        ConsumerSpec(
            name=WORKER_GROUP,
            topics=[Topics.contacts, Topics.feedback, Topics.scores],
            handlers={
                **CUSTOMER_PROJECTION_HANDLERS,
                **triggers,
                "crm.indicator.threshold_crossed.v1": on_indicator_alert,
                "crm.contact.created.v1": on_contact_card,
                "crm.contact.updated.v1": on_contact_card,
                "crm.contact.lifecycle_changed.v1": on_lifecycle_changed,
                "crm.contact.activity_recorded.v1": on_activity_recorded,
                "crm.feedback.invitation_answered.v1": campaigns.on_invitation_answered,
                "crm.contact.merged.v1": on_contact_merged,
                "crm.contact.erased.v1": on_contact_erased,
            },
        ),
        # Its own group, so a slow or failing subscriber never holds up the task playbooks; it
        # rests between fetches while no subscription wants any event.
        ConsumerSpec(
            name=WEBHOOKS_GROUP,
            topics=Topics.all(),
            handlers=SubscribedHandlers(dict.fromkeys(EVENT_PAYLOADS, webhooks.on_event)),
            rest=watch.rest,
        ),
    ]
