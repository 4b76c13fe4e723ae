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

# A data subject's export (GDPR art. 15/20) from every service: one scope, checked by each.
EXPORT_SCOPE = "contacts:export"

# Services read each other to compose views (the customer 360) or to resolve a customer; feedback
# also writes one: a caller unknown to contacts who gives a name becomes a lead there.
SERVICE_SCOPES = ("contacts:read", "contacts:write", "feedback:read", "scores:read", "tasks:read")
