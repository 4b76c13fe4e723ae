"""End to end across the four services: each role sees exactly its customers' records.

An account manager sees the customers they or their team own, a partner those assigned to it, an
analyst every customer under a pseudonym, an agent every customer; in contacts, feedback, scores
and tasks alike (docs/security.md#roles-and-record-level-access).
"""

import uuid

import httpx
import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.config import AuthSettings
from crm_shared.contracts.scopes import ALL_SCOPES
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.e2e

SERVICES = ("contacts", "feedback", "scoring", "notifications")


def as_(services, service: str, *, subject: str, scopes=ALL_SCOPES, **claims) -> httpx.AsyncClient:
    token = mint_token(AuthSettings(), subject=subject, scopes=scopes, **claims)
    return httpx.AsyncClient(
        base_url=services.stack.api_url(service), headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


class Caller:
    """One person's clients for the four apis."""

    def __init__(self, services, subject: str, **claims) -> None:
        self.clients = {s: as_(services, s, subject=subject, **claims) for s in SERVICES}

    def __getattr__(self, service: str) -> httpx.AsyncClient:
        return self.clients[service]

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()


@pytest.fixture
async def people(services):
    tag = uuid.uuid4().hex[:8]
    callers = {
        "alice": Caller(services, f"alice-{tag}", roles=("account_manager",), teams=(f"kam-{tag}",)),
        "partner": Caller(services, f"p-user-{tag}", roles=("partner",), partner=f"dist-{tag}"),
        "analyst": Caller(services, f"ana-{tag}", roles=("analyst",), scopes=("contacts:read", "feedback:read")),
        "agent": Caller(services, f"agent-{tag}", roles=("agent",)),
    }
    yield tag, callers
    for caller in callers.values():
        await caller.close()


async def create(services, name: str, **fields) -> dict:
    body = {"name": name, "email": unique_email(), "phone": unique_phone(), "tier": "gold"} | fields
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _complaint(customer_id: str) -> dict:
    return {
        "customer_id": customer_id,
        "type": "complaint",
        "category": "service.delivery",
        "severity": "medium",
        "channel": "phone",
        "description": "The pallet arrived broken, says Mr Smith.",
    }


async def complain(services, customer_id: str) -> dict:
    response = await services.feedback.post("/v1/feedback", json=_complaint(customer_id))
    assert response.status_code == 201, response.text
    return response.json()


async def test_each_role_lists_reads_and_changes_exactly_its_customers_in_every_service(services, people) -> None:
    tag, who = people
    alice, partner, analyst, agent = who["alice"], who["partner"], who["analyst"], who["agent"]
    own = await create(services, f"Own {tag}", owner=f"alice-{tag}")
    teams = await create(services, f"Team {tag}", owner=f"bob-{tag}", owner_team=f"kam-{tag}")
    partnered = await create(services, f"Partnered {tag}", owner=f"carol-{tag}", partner=f"dist-{tag}")
    nobodys = await create(services, f"Nobody's {tag}", owner=f"dave-{tag}")
    customers = (own, teams, partnered, nobodys)
    everyone = {c["id"] for c in customers}
    expected = {
        "alice": {own["id"], teams["id"]},
        "partner": {partnered["id"]},
        "analyst": everyone,
        "agent": everyone,
    }
    complaints = {c["id"]: await complain(services, c["id"]) for c in customers}

    # Contacts: lists filter, reads of others are 404, an analyst sees pseudonyms.
    for name, caller in who.items():
        for customer in customers:
            listed = (await caller.contacts.get("/v1/customers", params={"owner": customer["owner"]})).json()
            assert [c["id"] for c in listed["items"]] == ([customer["id"]] if customer["id"] in expected[name] else [])
            status = (await caller.contacts.get(f"/v1/customers/{customer['id']}")).status_code
            assert status == (200 if customer["id"] in expected[name] else 404), (name, customer["name"])
    seen = (await analyst.contacts.get(f"/v1/customers/{own['id']}")).json()
    assert seen["name"].startswith("anon-") and seen["email"] is None and seen["phone"] is None
    listed = (await analyst.contacts.get("/v1/customers", params={"owner": own["owner"]})).json()["items"]
    assert [c["name"] for c in listed] == [seen["name"]]  # the same pseudonym on every read
    by_name = await analyst.contacts.get("/v1/customers", params={"name": own["name"]})
    assert by_name.status_code == 403  # a lookup by name would undo the pseudonym
    history = (await analyst.contacts.get(f"/v1/customers/{own['id']}/audit")).json()["items"]
    [created] = [entry["changes"] for entry in history if entry["action"] == "created"]
    assert created["name"]["to"] == created["email"]["to"] == "[pseudonymised]" and created["tier"]["to"] == "gold"

    # Writes: outside reach 404, inside 200; an analyst changes nothing.
    patch = {"tags": ["reviewed"]}
    headers = {"If-Match": "*"}
    assert (
        await alice.contacts.patch(f"/v1/customers/{nobodys['id']}", json=patch, headers=headers)
    ).status_code == 404
    assert (await alice.contacts.patch(f"/v1/customers/{teams['id']}", json=patch, headers=headers)).status_code == 200
    assert (await partner.contacts.patch(f"/v1/customers/{own['id']}", json=patch, headers=headers)).status_code == 404
    refused = await analyst.contacts.patch(f"/v1/customers/{own['id']}", json=patch, headers=headers)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    activity = {"occurred_at": "2026-10-01T09:00:00Z", "details": {"kind": "call"}}
    posted = await partner.contacts.post(f"/v1/customers/{nobodys['id']}/activities", json=activity)
    assert posted.status_code == 404

    # Feedback: each sees the complaints of its customers; someone else's is a 404.
    async def feedback_ids(caller) -> set[str]:
        page = (await caller.feedback.get("/v1/feedback", params={"limit": 200})).json()["items"]
        return {f["customer_id"] for f in page} & everyone

    for name, caller in who.items():
        assert await eventually(lambda caller=caller, name=name: _equal(feedback_ids(caller), expected[name]))
        for customer_id, complaint in complaints.items():
            status = (await caller.feedback.get(f"/v1/feedback/{complaint['id']}")).status_code
            assert status == (200 if customer_id in expected[name] else 404), (name, customer_id)
    seen_complaint = (await analyst.feedback.get(f"/v1/feedback/{complaints[own['id']]['id']}")).json()
    assert "Smith" not in seen_complaint["description"]
    moved = await partner.feedback.post(
        f"/v1/feedback/{complaints[own['id']]['id']}/transitions", json={"to": "acknowledged"}
    )
    assert moved.status_code == 404
    about_others = await partner.feedback.post("/v1/feedback", json=_complaint(own["id"]))
    assert about_others.status_code == 422 and about_others.json()["type"].endswith("unknown-customer")
    assert (await partner.feedback.post("/v1/feedback", json=_complaint(partnered["id"]))).status_code == 201
    by_caller = {k: v for k, v in _complaint(own["id"]).items() if k != "customer_id"} | {
        "customer": {"email": own["email"]}
    }
    assert (await partner.feedback.post("/v1/feedback", json=by_caller)).status_code == 422

    # Scores: a customer's scores are as visible as the customer.
    for customer_id in everyone:
        await eventually(lambda cid=customer_id: _ok(services.scoring.get(f"/v1/scores/{cid}")))
    for name, caller in (("alice", alice), ("partner", partner)):
        for customer_id in everyone:
            status = (await caller.scoring.get(f"/v1/scores/{customer_id}")).status_code
            assert status == (200 if customer_id in expected[name] else 404), (name, customer_id)
            history = await caller.scoring.get(f"/v1/scores/{customer_id}/history")
            assert history.status_code == 200  # a list: filtered, empty outside reach
            assert bool(history.json()["items"]) == (customer_id in expected[name]), (name, customer_id)

    # Tasks: the complaints' follow-ups, filtered the same way.
    for customer_id in everyone:
        await eventually(lambda cid=customer_id: _tasks(services.notifications, cid))
    for name, caller in (("alice", alice), ("partner", partner), ("agent", agent)):
        for customer_id in everyone:
            tasks = await _tasks(caller.notifications, customer_id)
            assert bool(tasks) == (customer_id in expected[name]), (name, customer_id)
    [hidden] = await _tasks(services.notifications, nobodys["id"])
    assert (await alice.notifications.get(f"/v1/tasks/{hidden['id']}")).status_code == 404
    assert (await alice.notifications.post(f"/v1/tasks/{hidden['id']}/claim")).status_code == 404


async def test_a_restricted_caller_creates_customers_within_its_reach_only(services, people) -> None:
    tag, who = people
    alice, partner = who["alice"], who["partner"]
    mine = await alice.contacts.post("/v1/customers", json={"name": f"Mine {tag}", "email": unique_email()})
    assert mine.status_code == 201, mine.text
    assert mine.json()["owner"] == f"alice-{tag}"
    assert (await alice.contacts.get(f"/v1/customers/{mine.json()['id']}")).status_code == 200

    for_bob = await alice.contacts.post("/v1/customers", json={"name": f"Bob's {tag}", "owner": "bob"})
    assert for_bob.status_code == 403 and "your team" in for_bob.json()["detail"]

    # Bulk imports write and report customers of every owner: not for an account manager.
    csv = f"name,email\nImported {tag},{unique_email()}\n".encode()
    imported = await alice.contacts.post(
        "/v1/imports", params={"kind": "customers"}, content=csv, headers={"Content-Type": "text/csv"}
    )
    assert imported.status_code == 403
    assert (await alice.contacts.get("/v1/imports")).status_code == 403

    # Duplicate checks stay global, but name no customer the caller does not see, nor add to it.
    others = await create(services, f"Someone else's {tag}", owner=f"dave-{tag}")
    copy = {"name": f"Copy {tag}", "email": others["email"]}
    clash = await alice.contacts.post("/v1/customers", json=copy)
    assert clash.status_code == 409 and clash.json()["duplicates"][0]["name"] is None
    assert clash.json()["candidates"] == [others["id"]]
    merged = await alice.contacts.post("/v1/customers", params={"on_duplicate": "merge"}, json=copy | {"tags": ["x"]})
    assert merged.status_code == 409
    assert (await services.contacts.get(f"/v1/customers/{others['id']}")).json()["tags"] == []

    assigned = await partner.contacts.post("/v1/customers", json={"name": f"Via partner {tag}"})
    assert assigned.status_code == 201 and assigned.json()["partner"] == f"dist-{tag}"
    reassign = await partner.contacts.patch(
        f"/v1/customers/{assigned.json()['id']}", json={"partner": "dist-other"}, headers={"If-Match": "*"}
    )
    assert reassign.status_code == 403


async def _equal(found, wanted: set[str]) -> bool:
    return await found == wanted


async def _ok(request) -> bool:
    return (await request).status_code == 200


async def _tasks(client: httpx.AsyncClient, customer_id: str) -> list[dict]:
    response = await client.get("/v1/tasks", params={"customer_id": customer_id})
    assert response.status_code == 200, response.text
    return [t for t in response.json()["items"] if t["type"] == "service_recovery"]
