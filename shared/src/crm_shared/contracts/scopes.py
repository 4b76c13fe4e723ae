"""The token scopes: a contract between the token issuer and every api, like the events.

Scopes follow `<area>:<read|write>`; `admin` implies every scope. They live with the contracts
because one token is checked by several services (the customer 360 reads three of them).
"""

ALL_SCOPES = (
    "contacts:read",  # personal data: names, emails, phones, the 360 view
    "contacts:write",
    "contacts:import",  # bulk import of customers and activities
    "contacts:erase",  # right to be forgotten: irreversible, so its own scope
    "contacts:export",  # a customer's data export from every service (GDPR art. 15/20)
    "feedback:read",
    "feedback:write",
    "scores:read",
    "tasks:read",
    "tasks:write",
    "webhooks:read",  # webhook subscriptions and their delivery history
    "webhooks:write",  # subscribe a URL to events (they leave the system: its own scope)
    "admin",
)

# The scope that reads personal data (names, emails, phones): without it, addresses show masked.
PERSONAL_DATA_SCOPE = "contacts:read"
# A data subject's export (GDPR art. 15/20) from every service: one scope, checked by each.
EXPORT_SCOPE = "contacts:export"

# Services read each other to compose views (the customer 360) or to resolve a customer; feedback
# also writes one: a caller unknown to contacts who gives a name becomes a lead there.
SERVICE_SCOPES = ("contacts:read", "contacts:write", "feedback:read", "scores:read", "tasks:read")

# The scope that reads each event family (the type up to its second dot): a webhook subscription
# receives only the families its creator may read (crm.contact.* carries names, emails, phones).
EVENT_FAMILY_SCOPES = {
    "crm.contact": "contacts:read",
    "crm.feedback": "feedback:read",
    "crm.score": "scores:read",
    "crm.indicator": "scores:read",
    "crm.task": "tasks:read",
}


def read_scope_of(event_type: str) -> str:
    """The scope needed to read an event type; a family not listed needs `admin`."""
    family = ".".join(event_type.split(".")[:2])
    return EVENT_FAMILY_SCOPES.get(family, "admin")
