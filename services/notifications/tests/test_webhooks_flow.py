"""Integration: webhook subscriptions get each matching event once, signed, after retries."""

import asyncio
import base64
import hashlib
import hmac
import uuid

import pytest

from crm_devstack.testing import eventually, unique_email

from .conftest import MAX_ATTEMPTS

pytestmark = pytest.mark.integration


def standard_webhooks_signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    """Computed here from the spec, not with the service's own code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def test_a_receiver_failing_three_times_gets_the_event_once_after_recovery_signed(services, receiver) -> None:
    assert MAX_ATTEMPTS > 3
    path = f"/hooks/{uuid.uuid4().hex}"
    receiver.answer(path, [500, 500, 500])
    created = await services.notifications.post(
        "/v1/webhooks", json={"url": receiver.url(path), "event_types": ["crm.contact.created.v1"]}
    )
    assert created.status_code == 201, created.text
    webhook = created.json()
    assert webhook["secret"].startswith("whsec_")
    shown = (await services.notifications.get(f"/v1/webhooks/{webhook['id']}")).json()
    assert "secret" not in shown and shown["event_types"] == ["crm.contact.created.v1"]

    response = await services.contacts.post("/v1/customers", json={"name": "Initech", "email": unique_email()})
    customer = response.json()

    def calls():
        return [r for r in receiver.at(path) if r.json()["subject"] == customer["id"]]

    async def delivered():
        page = (await services.notifications.get(f"/v1/webhooks/{webhook['id']}/deliveries")).json()
        mine = [d for d in page["items"] if d["status"] == "delivered"]
        return mine if any(c.status == 200 for c in calls()) and mine else None

    [delivery] = [d for d in await eventually(delivered) if d["event_type"] == "crm.contact.created.v1"]
    await asyncio.sleep(0.3)  # anything sent twice would arrive in this time
    received = calls()
    assert [r.status for r in received] == [500, 500, 500, 200]
    assert {r.headers["webhook-id"] for r in received} == {delivery["event_id"]}
    success = received[-1]
    assert success.headers["webhook-signature"] == standard_webhooks_signature(
        webhook["secret"], success.headers, success.body
    )
    event = success.json()
    assert event["type"] == "crm.contact.created.v1" and event["id"] == delivery["event_id"]
    assert event["data"]["name"] == "Initech"
    assert [(a["outcome"], a["status_code"]) for a in delivery["attempts_log"]] == [("failed", 500)] * 3 + [
        ("delivered", 200)
    ]

    replayed = await services.notifications.post(f"/v1/webhooks/{webhook['id']}/deliveries/{delivery['id']}/replay")
    assert replayed.status_code == 200 and replayed.json()["status"] == "queued"
    await eventually(lambda: asyncio.sleep(0, len(calls()) == 5))
    assert calls()[-1].headers["webhook-id"] == delivery["event_id"]

    assert (await services.notifications.delete(f"/v1/webhooks/{webhook['id']}")).status_code == 204
    assert (await services.notifications.get(f"/v1/webhooks/{webhook['id']}")).status_code == 404
    listed = (await services.notifications.get("/v1/webhooks", params={"limit": 200})).json()
    assert webhook["id"] not in [w["id"] for w in listed["items"]]


async def test_a_subscription_needs_known_event_types_and_an_http_url(services) -> None:
    for body in (
        {"url": "ftp://example.com/x", "event_types": ["crm.feedback.*"]},
        {"url": "https://example.com/x", "event_types": ["crm.nothing.*"]},
        {"url": "https://example.com/x", "event_types": ["crm.feedback.received.v9"]},
    ):
        response = await services.notifications.post("/v1/webhooks", json=body)
        assert response.status_code == 422, body


async def test_a_webhook_cannot_target_a_private_address(services) -> None:
    """The SSRF guard: an integrator cannot make our worker POST to the cloud metadata service,
    a database or anything else inside; the refusal is a problem that stores nothing."""
    for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.7:5432/", "http://[fd00::1]/hook"):
        response = await services.notifications.post(
            "/v1/webhooks", json={"url": url, "event_types": ["crm.contact.created.v1"]}
        )
        assert response.status_code == 422, url
        assert response.headers["content-type"].startswith("application/problem+json")
        [error] = response.json()["errors"]
        assert error["field"] == "url" and error["code"] == "private_target"
        listed = (await services.notifications.get("/v1/webhooks", params={"limit": 200})).json()["items"]
        assert url not in [w["url"] for w in listed]


async def test_a_target_that_turned_private_is_refused_at_delivery_without_a_connection(services, receiver) -> None:
    """A subscription accepted while its host looked public (DNS can change) is checked again before
    each send: the delivery is dead at once with the reason, not retried against the inside."""
    from notifications.webhooks.models import WebhookSubscription

    path = f"/hooks/{uuid.uuid4().hex}"
    created = await services.notifications.post(
        "/v1/webhooks", json={"url": receiver.url(path), "event_types": ["crm.contact.created.v1"]}
    )
    webhook = created.json()
    async with services.workers["notifications"].sessions() as session, session.begin():
        subscription = await session.get(WebhookSubscription, uuid.UUID(webhook["id"]))
        subscription.url = "http://10.255.255.1:9/hook"  # now points inside

    await services.contacts.post("/v1/customers", json={"name": "Globex", "email": unique_email()})

    async def settled():
        page = (await services.notifications.get(f"/v1/webhooks/{webhook['id']}/deliveries")).json()
        items = page["items"]
        return items if items and all(d["status"] in ("dead", "delivered") for d in items) else None

    for delivery in await eventually(settled):
        assert delivery["status"] == "dead" and delivery["attempts"] == 1
        [attempt] = delivery["attempts_log"]
        assert attempt["status_code"] is None and "10.255.255.1 is not a public address" in attempt["error"]
    assert receiver.at(path) == []
    assert (await services.notifications.delete(f"/v1/webhooks/{webhook['id']}")).status_code == 204


async def test_a_new_subscription_gets_the_next_event_and_unchanged_subscriptions_are_not_read_per_event(
    services, receiver
) -> None:
    """The webhooks consumer keeps the subscriptions in memory (webhooks/watch.py): events cost no
    read of them, and a subscription made through the api is in force for the next event."""
    from notifications.webhooks.watch import SUBSCRIPTIONS

    async def subscribe(path: str) -> dict:
        body = {"url": receiver.url(path), "event_types": ["crm.contact.created.v1"]}
        created = await services.notifications.post("/v1/webhooks", json=body)
        assert created.status_code == 201, created.text
        return created.json()

    async def new_customer() -> str:
        response = await services.contacts.post("/v1/customers", json={"name": "Hooli", "email": unique_email()})
        return response.json()["id"]

    def received(path: str, customer: str) -> list:
        return [r for r in receiver.at(path) if r.json()["subject"] == customer]

    first_path, second_path = f"/hooks/{uuid.uuid4().hex}", f"/hooks/{uuid.uuid4().hex}"
    first = await subscribe(first_path)
    warm = await new_customer()
    await eventually(lambda: asyncio.sleep(0, received(first_path, warm)))

    reads = SUBSCRIPTIONS.loads
    customers = [await new_customer() for _ in range(3)]
    await eventually(lambda: asyncio.sleep(0, all(received(first_path, c) for c in customers)))
    assert SUBSCRIPTIONS.loads == reads

    second = await subscribe(second_path)
    customer = await new_customer()
    await eventually(lambda: asyncio.sleep(0, received(second_path, customer) and received(first_path, customer)))
    assert SUBSCRIPTIONS.loads > reads
    for webhook in (first, second):
        assert (await services.notifications.delete(f"/v1/webhooks/{webhook['id']}")).status_code == 204
