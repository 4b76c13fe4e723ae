"""Events the feedback service consumes."""

from crm_shared.contracts import Topics
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS
from crm_shared.worker import ConsumerSpec
from feedback.cases import service as cases
from feedback.intake import service
from feedback.manifest import CASES_GROUP, WORKER_GROUP


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
                "crm.contact.merged.v1": service.on_contact_merged,
                "crm.contact.erased.v1": service.on_contact_erased,
            },
        ),
        # Its own feedback events: a follow-up survey answer reopens or closes its complaint.
        ConsumerSpec(
            name=CASES_GROUP,
            topics=[Topics.feedback],
            handlers={"crm.feedback.received.v1": cases.on_feedback_received},
        ),
    ]
