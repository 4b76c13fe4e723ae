"""Fixtures for every test folder: the real PostgreSQL + broker stack (crm_devstack.testing)."""

pytest_plugins = ["crm_devstack.testing"]
