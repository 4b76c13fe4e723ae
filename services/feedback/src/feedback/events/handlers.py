"""Events the feedback service consumes."""

from crm_shared.contracts import Topics
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS
from crm_shared.worker import ConsumerSpec
from feedback.intake import service


def consumers() -> list[ConsumerSpec]:
    return [
        ConsumerSpec(
            name="feedback-worker",
            topics=[Topics.contacts],
            handlers={
                **CUSTOMER_PROJECTION_HANDLERS,
                "crm.contact.merged.v1": service.on_contact_merged,
                "crm.contact.erased.v1": service.on_contact_erased,
            },
        )
    ]
