"""Integration: who closes a claimed task, who subscribes to which events, and what a token
without `contacts:read` sees of addresses (docs/security.md)."""

import uuid

import httpx
import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.config import AuthSettings
from crm_shared.contracts.scopes import ALL_SCOPES
from crm_shared.http.auth import mint_token

from .test_messages_flow import DAYTIME, zone_where_it_is

pytestmark = pytest.mark.integration


def client(services, subject: str, *, scopes=ALL_SCOPES, **claims) -> httpx.AsyncClient:
    token = mint_token(AuthSettings(), subject=subject, scopes=scopes, **claims)
    return httpx.AsyncClient(
        base_url=services.stack.api_url("notifications"), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


async def recovery_task(services, owner: str) -> dict:
    """A complaint's service-recovery task, assigned to the customer's owner."""
    customer = await services.contacts.post(
        "/v1/customers", json={"name": "Globex", "email": unique_email(), "tier": "gold", "owner": owner}
    )
    complaint = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer.json()["id"],
            "type": "complaint",
            "category": "service.delivery",
            "severity": "medium",
            "channel": "phone",
            "description": "Late.",
        },
    )
    assert complaint.status_code == 201, complaint.text

    async def task():
        page = await services.notifications.get("/v1/tasks", params={"customer_id": customer.json()["id"]})
        return [t for t in page.json()["items"] if t["type"] == "service_recovery"]

    [found] = await eventually(task)
    return found


async def test_only_the_assignee_their_lead_or_a_manager_closes_a_claimed_task(services) -> None:
    tag = uuid.uuid4().hex[:6]
    worker, colleague, lead = f"ann-{tag}", f"ben-{tag}", f"lee-{tag}"
    team = {"members": [worker, colleague], "lead": lead}
    assert (await services.notifications.put(f"/v1/teams/support-{tag}", json=team)).status_code == 200
    ann, ben, lee = (client(services, name, roles=("agent",)) for name in (worker, colleague, lead))
    boss = client(services, f"sm-{tag}", roles=("service_manager",))
    try:
        first = await recovery_task(services, owner=f"kam-{tag}")
        assert (await ann.post(f"/v1/tasks/{first['id']}/claim")).status_code == 200

        refused = await ben.post(f"/v1/tasks/{first['id']}/complete", json={"outcome": "called back"})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert worker in refused.json()["detail"] and refused.json()["assignee"] == worker
        assert (await ben.post(f"/v1/tasks/{first['id']}/cancel", json={"reason": "dup"})).status_code == 403
        assert (await ben.get(f"/v1/tasks/{first['id']}")).json()["status"] == "claimed"  # visible, unchanged

        done = await lee.post(f"/v1/tasks/{first['id']}/complete", json={"outcome": "lead called back"})
        assert done.status_code == 200 and done.json()["status"] == "done"

        second = await recovery_task(services, owner=f"kam-{tag}")
        assert (await ann.post(f"/v1/tasks/{second['id']}/claim")).status_code == 200
        cancelled = await boss.post(f"/v1/tasks/{second['id']}/cancel", json={"reason": "duplicate"})
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"

        third = await recovery_task(services, owner=f"kam-{tag}")
        assert (await ann.post(f"/v1/tasks/{third['id']}/claim")).status_code == 200
        own = await ann.post(f"/v1/tasks/{third['id']}/complete", json={"outcome": "solved"})
        assert own.status_code == 200

        fourth = await recovery_task(services, owner=f"kam-{tag}")  # open, not claimed: anyone may close it
        assert (await ben.post(f"/v1/tasks/{fourth['id']}/complete", json={"outcome": "done"})).status_code == 200
    finally:
        for c in (ann, ben, lee, boss):
            await c.aclose()


async def test_a_webhook_covers_only_event_families_its_creator_may_read(services, receiver) -> None:
    url = receiver.url(f"/hooks/{uuid.uuid4().hex}")
    feedback_only = client(services, f"erp-{uuid.uuid4().hex[:6]}", scopes=("webhooks:write", "feedback:read"))
    manager = client(services, f"am-{uuid.uuid4().hex[:6]}", roles=("account_manager",))
    try:
        for patterns in (["crm.contact.*"], ["crm.contact.erased.v1"], ["*"], ["crm.feedback.*", "crm.task.*"]):
            refused = await feedback_only.post("/v1/webhooks", json={"url": url, "event_types": patterns})
            assert refused.status_code == 403, patterns
            assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["missing_scopes"] == ["tasks:read"]
        allowed = await feedback_only.post("/v1/webhooks", json={"url": url, "event_types": ["crm.feedback.*"]})
        assert allowed.status_code == 201, allowed.text

        narrow = await manager.post("/v1/webhooks", json={"url": url, "event_types": ["crm.feedback.*"]})
        assert narrow.status_code == 403 and "every customer" in narrow.json()["detail"]
    finally:
        await feedback_only.aclose()
        await manager.aclose()


async def test_a_subscription_belongs_to_its_creator_and_admins(services, receiver) -> None:
    creator = client(
        services, f"erp-{uuid.uuid4().hex[:6]}", scopes=("webhooks:read", "webhooks:write", "feedback:read")
    )
    other = client(services, f"crm-{uuid.uuid4().hex[:6]}", scopes=("webhooks:read", "webhooks:write", "feedback:read"))
    admin = client(services, f"root-{uuid.uuid4().hex[:6]}", scopes=("webhooks:read",), roles=("admin",))
    try:
        url = receiver.url(f"/hooks/{uuid.uuid4().hex}")
        created = await creator.post("/v1/webhooks", json={"url": url, "event_types": ["crm.feedback.*"]})
        webhook_id = created.json()["id"]

        assert (await creator.get(f"/v1/webhooks/{webhook_id}")).status_code == 200
        assert webhook_id in [w["id"] for w in (await creator.get("/v1/webhooks")).json()["items"]]
        assert webhook_id not in [w["id"] for w in (await other.get("/v1/webhooks")).json()["items"]]
        assert (await other.get(f"/v1/webhooks/{webhook_id}")).status_code == 404
        assert (await other.get(f"/v1/webhooks/{webhook_id}/deliveries")).status_code == 404
        replay = await other.post(f"/v1/webhooks/{webhook_id}/deliveries/{uuid.uuid4()}/replay")
        assert replay.status_code == 404 and "Webhook" in replay.json()["detail"]
        assert (await other.delete(f"/v1/webhooks/{webhook_id}")).status_code == 404
        assert (await admin.get(f"/v1/webhooks/{webhook_id}")).status_code == 200
        assert webhook_id in [w["id"] for w in (await admin.get("/v1/webhooks", params={"limit": 200})).json()["items"]]
        assert (await creator.delete(f"/v1/webhooks/{webhook_id}")).status_code == 204
    finally:
        for c in (creator, other, admin):
            await c.aclose()


async def test_without_contacts_read_recipients_and_staff_addresses_are_masked(services) -> None:
    name = f"staff-{uuid.uuid4().hex[:6]}"
    staff = {"email": f"jane.{uuid.uuid4().hex[:6]}@crm.example", "phone": "+86 138 1234 8000"}
    assert (await services.notifications.put(f"/v1/staff/{name}", json=staff)).status_code == 200
    email = unique_email("masked")
    customer = await services.contacts.post(
        "/v1/customers",
        json={
            "name": "Hooli",
            "email": email,
            "phone": unique_phone(),
            "consent": {"email": True},
            "timezone": zone_where_it_is(DAYTIME),  # outside quiet hours: sent at once
        },
    )
    customer_id = customer.json()["id"]

    async def send():  # once the customer's card reached notifications
        body = {"customer_id": customer_id, "channel": "email", "template": "satisfaction_survey"}
        response = await services.notifications.post("/v1/messages", json=body)
        return response.json()["id"] if response.status_code == 201 else None

    message_id = await eventually(send)
    tasks_only = client(services, "dispatcher", scopes=("tasks:read",))
    try:
        shown = (await tasks_only.get(f"/v1/staff/{name}")).json()
        assert shown["email"] == "j***@crm.example" and shown["phone"] == "+86138****8000"
        assert (await services.notifications.get(f"/v1/staff/{name}")).json()["email"] == staff["email"]

        async def addressed():
            message = (await services.notifications.get(f"/v1/messages/{message_id}")).json()
            return message if message["to_address"] else None

        whole = await eventually(addressed)
        assert whole["to_address"] == email
        masked = (await tasks_only.get(f"/v1/messages/{message_id}")).json()
        assert masked["to_address"] == email[0] + "***@example.com"
        assert masked["subject"] is None and masked["body"] is None
        listed = (await tasks_only.get("/v1/messages", params={"customer_id": customer_id})).json()["items"]
        assert [m["to_address"] for m in listed] == [masked["to_address"]]
    finally:
        await tasks_only.aclose()
