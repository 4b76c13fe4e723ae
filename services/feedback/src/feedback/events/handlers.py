"""Events the feedback service consumes."""

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope, Topics
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS
from crm_shared.worker import ConsumerSpec
from feedback.backlog import service as backlog
from feedback.cases import service as cases
from feedback.intake import service
from feedback.manifest import CASES_GROUP, WORKER_GROUP
from feedback.reports import service as reports


async def _received(session: AsyncSession, event: Envelope) -> None:
    """A follow-up answer moves its complaint; a suggestion joins the product backlog; a complaint
    may make its theme recur enough for management."""
    await cases.on_feedback_received(session, event)
    await backlog.on_feedback_received(session, event)
    await reports.escalate_recurring_theme(session, event)


async def _merged(session: AsyncSession, event: Envelope) -> None:
    await service.on_contact_merged(session, event)
    await backlog.on_contact_merged(session, event)


def consumers() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name=WORKER_GROUP,
            topics=[Topics.contacts],
            handlers={
                **CUSTOMER_PROJECTION_HANDLERS,
                # The projection's handlers, plus attaching unmatched feedback to its new customer.
                "crm.contact.created.v1": service.on_contact_created,
                "crm.contact.updated.v1": service.on_contact_updated,
                "crm.contact.merged.v1": _merged,
                "crm.contact.erased.v1": service.on_contact_erased,
            },
        ),
        # Its own feedback events: a follow-up survey answer reopens or closes its complaint, a
        # suggestion votes on the product backlog.
        ConsumerSpec(
            name=CASES_GROUP,
            topics=[Topics.feedback],
            handlers={"crm.feedback.received.v1": _received},
        ),
    ]
