"""Integration: erasing a customer on request (right to be forgotten)."""

import random
import string
import uuid

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.integration

REASON = {"reason": "data subject request DSR-0117"}


def word() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()


async def create(services, **body) -> dict:
    response = await services.contacts.post("/v1/customers", json={"tier": "gold"} | body)
    assert response.status_code == 201, response.text
    return response.json()


async def events_of(services, key: str, type_: str) -> list[Envelope]:
    records = await read_topic(services.stack.bootstrap, "crm.contacts")
    events = [Envelope.model_validate_json(r.value) for r in records if r.key == key.encode()]
    return [e for e in events if e.type == type_]


async def test_erasure_removes_personal_data_and_keeps_a_non_personal_tombstone(services) -> None:
    org = await create(services, name=word(), email=unique_email())
    person = await create(
        services,
        name=f"Hank {word()}",
        kind="person",
        organisation_id=org["id"],
        email=unique_email(),
        phone=unique_phone(),
        owner="alice",
        region="EMEA",
        industry="energy",
        size="large",
        credit_standing="watch",
        credit_reason="paid late twice",
        tags=["vip"],
        consent={"email": True},
        attributes={"birthday": "1970-01-01"},
        external_ids=[{"system": "callcentre", "id": word()}],
    )
    changed = await services.contacts.patch(
        f"/v1/customers/{person['id']}", json={"phone": unique_phone(), "owner": "bob"}, headers={"If-Match": "*"}
    )
    assert changed.status_code == 200

    erased = await services.contacts.post(f"/v1/customers/{person['id']}/erasure", json=REASON)
    assert erased.status_code == 200, erased.text
    tombstone = (await services.contacts.get(f"/v1/customers/{person['id']}")).json()
    assert tombstone == erased.json()
    assert tombstone["status"] == "erased" and tombstone["erased_at"]
    assert tombstone["name"] == "Erased customer"
    for personal in ("email", "phone", "owner", "credit_reason", "organisation_id"):
        assert tombstone[personal] is None, personal
    assert (tombstone["external_ids"], tombstone["tags"], tombstone["consent"], tombstone["attributes"]) == (
        [],
        [],
        {},
        {},
    )
    kept = ("id", "kind", "tier", "region", "industry", "size", "lifecycle_stage", "created_at")
    assert {k: tombstone[k] for k in kept} == {k: changed.json()[k] for k in kept}

    # Lookups by the old identifiers find nothing; listing leaves tombstones out.
    for params in ({"email": person["email"]}, {"phone": person["phone"]}, {"organisation_id": org["id"]}):
        assert (await services.contacts.get("/v1/customers", params=params)).json()["items"] == []

    # The audit log keeps who changed which field when, not the values.
    audit = (await services.contacts.get(f"/v1/customers/{person['id']}/audit")).json()["items"]
    assert [e["action"] for e in audit] == ["erased", "updated", "created"]
    assert audit[0]["changes"]["reason"] == REASON["reason"] and audit[0]["actor"] == "tests"
    assert audit[1]["changes"]["phone"] == {"from": "[erased]", "to": "[erased]"}
    assert audit[1]["changes"]["owner"] == {"from": "alice", "to": "bob"}, "staff names are not the customer's"
    created = audit[2]["changes"]
    for field in ("name", "email", "phone", "external_ids", "tags", "consent", "attributes", "credit_reason"):
        assert created[field]["to"] == "[erased]", field
    assert person["email"] not in str(audit) and person["name"] not in str(audit)

    [event] = await eventually(lambda: events_of(services, person["id"], "crm.contact.erased.v1"))
    assert event.data["customer_id"] == person["id"] and event.data["aliases"] == []

    # Writes to a tombstone are refused; the organisation is untouched.
    patch = await services.contacts.patch(
        f"/v1/customers/{person['id']}", json={"tier": "gold"}, headers={"If-Match": "*"}
    )
    assert patch.status_code == 409 and patch.json()["type"].endswith("customer-erased")
    assert (await services.contacts.get(f"/v1/customers/{org['id']}")).json()["status"] == "active"


async def test_erasing_twice_changes_and_publishes_nothing_new(services) -> None:
    customer = await create(services, name=word(), email=unique_email())
    first = await services.contacts.post(f"/v1/customers/{customer['id']}/erasure", json=REASON)
    second = await services.contacts.post(f"/v1/customers/{customer['id']}/erasure", json={"reason": "asked again"})
    assert second.status_code == 200 and second.json() == first.json()
    audit = (await services.contacts.get(f"/v1/customers/{customer['id']}/audit")).json()["items"]
    assert [e["action"] for e in audit] == ["erased", "created"]

    # A later erasure's event on the same topic is the barrier: by then both would be there.
    barrier = await create(services, name=word(), email=unique_email())
    await services.contacts.post(f"/v1/customers/{barrier['id']}/erasure", json=REASON)
    await eventually(lambda: events_of(services, barrier["id"], "crm.contact.erased.v1"))
    assert len(await events_of(services, customer["id"], "crm.contact.erased.v1")) == 1


async def test_erasing_a_survivor_erases_the_records_merged_into_it(services) -> None:
    survivor = await create(services, name=word(), email=unique_email())
    alias = await create(services, name=word(), email=unique_email(), phone=unique_phone())
    merged = await services.contacts.post(
        f"/v1/customers/{survivor['id']}/merge", json={"merged_id": alias["id"], "reason": f"same as {alias['name']}"}
    )
    assert merged.status_code == 200
    # The merged record is a redirect: erasure goes to the survivor.
    wrong = await services.contacts.post(f"/v1/customers/{alias['id']}/erasure", json=REASON)
    assert wrong.status_code == 409 and wrong.json()["survivor_id"] == survivor["id"]

    assert (await services.contacts.post(f"/v1/customers/{survivor['id']}/erasure", json=REASON)).status_code == 200
    assert (await services.contacts.get("/v1/customers", params={"phone": alias["phone"]})).json()["items"] == []
    redirect = await services.contacts.get(f"/v1/customers/{alias['id']}")
    assert redirect.status_code == 308 and redirect.headers["location"] == f"/v1/customers/{survivor['id']}"
    for record in (survivor, alias):
        audit = str((await services.contacts.get(f"/v1/customers/{record['id']}/audit")).json())
        assert alias["name"] not in audit and alias["email"] not in audit and alias["phone"] not in audit
    [event] = await eventually(lambda: events_of(services, survivor["id"], "crm.contact.erased.v1"))
    assert event.data["aliases"] == [alias["id"]]


async def test_a_retried_create_after_erasure_does_not_return_the_erased_record(services) -> None:
    """Erasure deletes stored answers that mention the customer: a late retry runs as a new request."""
    body = {"name": word(), "email": unique_email(), "tier": "gold"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    created = (await services.contacts.post("/v1/customers", json=body, headers=key)).json()
    assert (await services.contacts.post(f"/v1/customers/{created['id']}/erasure", json=REASON)).status_code == 200

    retry = await services.contacts.post("/v1/customers", json=body, headers=key)
    assert "idempotent-replayed" not in retry.headers
    assert retry.status_code == 201 and retry.json()["id"] != created["id"]
    assert (await services.contacts.get(f"/v1/customers/{created['id']}")).json()["status"] == "erased"


async def test_erased_records_take_no_merges_and_people_of_an_erased_organisation_stay(services) -> None:
    org = await create(services, name=word(), email=unique_email())
    person = await create(services, name=f"Ann {word()}", kind="person", organisation_id=org["id"])
    other = await create(services, name=word(), email=unique_email())
    assert (await services.contacts.post(f"/v1/customers/{org['id']}/erasure", json=REASON)).status_code == 200

    into = await services.contacts.post(f"/v1/customers/{org['id']}/merge", json={"merged_id": other["id"]})
    assert into.status_code == 409 and into.json()["type"].endswith("customer-erased")
    away = await services.contacts.post(f"/v1/customers/{other['id']}/merge", json={"merged_id": org["id"]})
    assert away.status_code == 409 and away.json()["type"].endswith("customer-erased")
    kept = (await services.contacts.get(f"/v1/customers/{person['id']}")).json()
    assert kept["status"] == "active" and kept["name"] == person["name"] and kept["organisation_id"] == org["id"]


async def test_erasure_needs_its_own_scope_and_a_reason(services) -> None:
    from crm_shared.config import AuthSettings
    from crm_shared.http.auth import mint_token

    customer = await create(services, name=word(), email=unique_email())
    writer = mint_token(AuthSettings(), scopes=("contacts:read", "contacts:write"))
    forbidden = await services.contacts.post(
        f"/v1/customers/{customer['id']}/erasure", json=REASON, headers={"Authorization": f"Bearer {writer}"}
    )
    assert forbidden.status_code == 403
    no_reason = await services.contacts.post(f"/v1/customers/{customer['id']}/erasure", json={})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    unknown = await services.contacts.post(f"/v1/customers/{uuid.uuid4()}/erasure", json=REASON)
    assert unknown.status_code == 404
    assert (await services.contacts.get(f"/v1/customers/{customer['id']}")).json()["status"] == "active"
