"""Integration: webhook signing secrets are stored encrypted, and deliveries are still signed with them."""

import asyncio
import uuid

import pytest
from sqlalchemy import text

from crm_devstack.testing import eventually, unique_email
from notifications.config import Settings
from notifications.outbound.sealing import Sealer

from .test_webhooks_flow import standard_webhooks_signature

pytestmark = pytest.mark.integration


async def test_the_stored_secret_is_encrypted_and_deliveries_are_signed_with_the_clear_one(services, receiver) -> None:
    path = f"/hooks/{uuid.uuid4().hex}"
    created = await services.notifications.post(
        "/v1/webhooks", json={"url": receiver.url(path), "event_types": ["crm.contact.created.v1"]}
    )
    assert created.status_code == 201, created.text
    webhook = created.json()
    async with services.workers["notifications"].sessions() as session:
        stored = await session.scalar(
            text("SELECT secret FROM webhook_subscriptions WHERE id = :id"), {"id": uuid.UUID(webhook["id"])}
        )
    secret = webhook["secret"]
    assert stored.startswith("fernet:") and secret not in stored
    assert secret.removeprefix("whsec_") not in stored
    # Opened only with the service's key, not with another one.
    assert Sealer(Settings().webhook_secrets_key).open(stored) == secret
    with pytest.raises(ValueError):
        Sealer("x4e2WVyDcKo9mnbtcYPhSN7GnZqTF3jhy1bZ40eNH-Q=").open(stored)

    response = await services.contacts.post("/v1/customers", json={"name": "Sealed Ltd", "email": unique_email()})
    customer = response.json()

    def calls():
        return [r for r in receiver.at(path) if r.json()["subject"] == customer["id"]]

    [call] = await eventually(lambda: asyncio.sleep(0, calls()))
    assert call.headers["webhook-signature"] == standard_webhooks_signature(secret, call.headers, call.body)
