"""Events the feedback service consumes."""

from crm_shared.contracts import Topics
from crm_shared.projections import CUSTOMER_PROJECTION_HANDLERS
from crm_shared.worker import ConsumerSpec


def consumers() -> list[ConsumerSpec]:
    return [ConsumerSpec(name="feedback-worker", topics=[Topics.contacts], handlers=dict(CUSTOMER_PROJECTION_HANDLERS))]
