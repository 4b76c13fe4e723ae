"""Fixtures for every test folder: the real PostgreSQL + broker stack (crm_devstack.testing)."""

import os

# The tests run as the dev stack does: the built-in dev secret and default issuer are accepted
# (services refuse them at startup outside CRM_ENV=dev; docs/security.md#identity-and-tokens).
os.environ.setdefault("CRM_ENV", "dev")

pytest_plugins = ["crm_devstack.testing"]
