"""Integration: duplicate detection on create, and merging two records of one customer."""

import random
import string
import uuid

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.integration


def word() -> str:
    """A made-up name part, so names in a shared database only resemble what a test made."""
    return "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()


async def create(services, **body) -> dict:
    response = await services.contacts.post("/v1/customers", json={"tier": "silver"} | body)
    assert response.status_code == 201, response.text
    return response.json()


async def contact_events(services, key: str) -> list[Envelope]:
    records = await read_topic(services.stack.bootstrap, "crm.contacts")
    return [Envelope.model_validate_json(r.value) for r in records if r.key == key.encode()]


async def test_a_similar_name_in_the_same_organisation_is_a_409_naming_the_candidate(services) -> None:
    globex = await create(services, name=f"Globex {word()}", email=unique_email())
    hank = await create(services, name="Hank Scorpio", kind="person", organisation_id=globex["id"])

    typo = {"name": "Hank Scorpoi", "kind": "person", "organisation_id": globex["id"], "tier": "silver"}
    refused = await services.contacts.post("/v1/customers", json=typo)
    assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["candidates"] == [hank["id"]]
    [candidate] = problem["duplicates"]
    assert candidate["id"] == hank["id"] and candidate["name"] == "Hank Scorpio"
    assert candidate["matched"] == ["name"] and 0.6 <= candidate["similarity"] < 1

    # A different person with a similar name is the client's call; another organisation is no clash.
    other_org = await create(services, name=f"Initech {word()}", email=unique_email())
    assert (
        await services.contacts.post("/v1/customers", json=typo | {"organisation_id": other_org["id"]})
    ).status_code == 201
    allowed = await services.contacts.post("/v1/customers", json=typo, params={"on_duplicate": "create"})
    assert allowed.status_code == 201
    # ... but an exact namesake stays one record per name.
    exact = await services.contacts.post(
        "/v1/customers", json=typo | {"name": "hank  scorpio"}, params={"on_duplicate": "create"}
    )
    assert exact.status_code == 409 and exact.json()["candidates"] == [hank["id"]]


async def test_a_very_similar_organisation_name_is_a_candidate_unless_the_identifiers_differ(services) -> None:
    name = word()
    acme = await create(services, name=f"{name} Logistics", email=unique_email())
    refused = await services.contacts.post("/v1/customers", json={"name": f"{name} Logistcs", "phone": unique_phone()})
    assert refused.status_code == 409
    assert [(d["id"], d["matched"]) for d in refused.json()["duplicates"]] == [(acme["id"], ["name"])]
    # Both have an email and they differ: two branches, not one customer.
    branch = await services.contacts.post("/v1/customers", json={"name": f"{name} Logistics", "email": unique_email()})
    assert branch.status_code == 201
    unrelated = await services.contacts.post("/v1/customers", json={"name": f"{name} Foods"})
    assert unrelated.status_code == 201


async def test_identifier_duplicates_say_which_identifier_matched(services) -> None:
    existing = await create(
        services, name=word(), email=unique_email(), external_ids=[{"system": "erp", "id": f"D-{word()}"}]
    )
    body = {"name": word(), "email": existing["email"].upper(), "external_ids": existing["external_ids"]}
    refused = await services.contacts.post("/v1/customers", json=body)
    assert refused.status_code == 409
    [candidate] = refused.json()["duplicates"]
    assert candidate["matched"] == ["email", f"external_id:erp:{existing['external_ids'][0]['id']}"]


async def test_on_duplicate_merge_returns_the_existing_record_with_the_new_details(services) -> None:
    existing = await create(
        services,
        name=f"{word()} Freight",
        email=unique_email(),
        tags=["vip"],
        external_ids=[{"system": "erp", "id": word()}],
    )
    new_phone = unique_phone()
    body = {
        "name": existing["name"],
        "email": existing["email"],
        "phone": new_phone,
        "owner": "bob",
        "region": "EMEA",
        "tier": "key",
        "tags": ["Export"],
        "external_ids": [{"system": "webshop", "id": "W-1"}],
    }
    merged = await services.contacts.post("/v1/customers", json=body, params={"on_duplicate": "merge"})
    assert merged.status_code == 200, merged.text
    record = merged.json()
    assert record["id"] == existing["id"] and record["version"] == existing["version"] + 1
    assert (record["owner"], record["region"], record["phone"][-4:]) == ("bob", "EMEA", new_phone[-4:])
    assert record["tier"] == "silver", "a filled record keeps what it had"
    assert record["tags"] == ["vip", "export"]
    assert {e["system"] for e in record["external_ids"]} == {"erp", "webshop"}

    audit = (await services.contacts.get(f"/v1/customers/{existing['id']}/audit")).json()["items"]
    assert audit[0]["action"] == "duplicate_merged" and audit[0]["changes"]["owner"] == {"from": None, "to": "bob"}

    async def updated():
        events = await contact_events(services, existing["id"])
        return [e for e in events if e.type == "crm.contact.updated.v1"]

    [event] = await eventually(updated)
    assert event.data["owner"] == "bob"

    # Matched by phone, with another email: that email is kept as a secondary identifier that finds it.
    other_email = unique_email()
    again = await services.contacts.post(
        "/v1/customers",
        json=body | {"email": other_email, "external_ids": [], "tags": []},
        params={"on_duplicate": "merge"},
    )
    assert again.status_code == 200 and again.json()["email"] == existing["email"]
    found = await services.contacts.get("/v1/customers", params={"email": other_email})
    assert [c["id"] for c in found.json()["items"]] == [existing["id"]]

    # Nothing new: same version, no event.
    same = await services.contacts.post("/v1/customers", json=body, params={"on_duplicate": "merge"})
    assert same.status_code == 200 and same.json()["version"] == again.json()["version"]


async def test_on_duplicate_merge_adds_consent_the_record_lacks_and_keeps_what_it_has(services) -> None:
    email = unique_email()
    first = await create(services, name=f"Vandelay {word()}", email=email, consent={"email": False})
    merged = await services.contacts.post(
        "/v1/customers",
        json={"name": first["name"], "email": email, "tier": "silver", "consent": {"email": True, "sms": True}},
        params={"on_duplicate": "merge"},
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["id"] == first["id"]
    assert merged.json()["consent"] == {"email": False, "sms": True}  # a recorded refusal is never overturned


async def test_on_duplicate_merge_with_several_candidates_is_a_409(services) -> None:
    first = await create(services, name=word(), email=unique_email())
    second = await create(services, name=word(), phone=unique_phone())
    body = {"name": word(), "email": first["email"], "phone": second["phone"]}
    response = await services.contacts.post("/v1/customers", json=body, params={"on_duplicate": "merge"})
    assert response.status_code == 409
    assert sorted(response.json()["candidates"]) == sorted([first["id"], second["id"]])
    bad = await services.contacts.post("/v1/customers", json=body, params={"on_duplicate": "ignore"})
    assert bad.status_code == 422


async def test_merge_keeps_every_identifier_on_the_survivor_and_redirects_the_merged_id(services) -> None:
    survivor = await create(
        services,
        name=f"{word()} Holdings",
        email=unique_email(),
        phone=unique_phone(),
        region="EMEA",
        external_ids=[{"system": "erp", "id": word()}],
    )
    duplicate = await create(
        services,
        name=f"{word()} Holdings Ltd",
        email=unique_email(),
        phone=unique_phone(),
        industry="logistics",
        owner="carol",
        tags=["key-contract"],
        external_ids=[{"system": "callcentre", "id": word()}],
    )
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"merged_id": duplicate["id"], "reason": "two ERP accounts of one company"}
    response = await services.contacts.post(f"/v1/customers/{survivor['id']}/merge", json=body, headers=key)
    assert response.status_code == 200, response.text
    merged = response.json()
    assert merged["id"] == survivor["id"] and merged["status"] == "active"
    assert {e["system"] for e in merged["external_ids"]} == {"erp", "callcentre"}
    assert (merged["email"], merged["region"]) == (survivor["email"], "EMEA"), "the survivor's own values win"
    assert (merged["industry"], merged["owner"], merged["tags"]) == ("logistics", "carol", ["key-contract"])
    replay = await services.contacts.post(f"/v1/customers/{survivor['id']}/merge", json=body, headers=key)
    assert replay.headers["idempotent-replayed"] == "true" and replay.json() == merged

    # Old identifiers still find the survivor, and cannot be taken by a new record.
    for params in (
        {"phone": duplicate["phone"]},
        {"email": duplicate["email"]},
        {"external_id": f"callcentre:{duplicate['external_ids'][0]['id']}"},
    ):
        found = await services.contacts.get("/v1/customers", params=params)
        assert [c["id"] for c in found.json()["items"]] == [survivor["id"]], params
    taken = await services.contacts.post("/v1/customers", json={"name": word(), "phone": duplicate["phone"]})
    assert taken.status_code == 409 and taken.json()["candidates"] == [survivor["id"]]

    redirect = await services.contacts.get(f"/v1/customers/{duplicate['id']}")
    assert redirect.status_code == 308 and redirect.headers["location"] == f"/v1/customers/{survivor['id']}"
    assert redirect.json()["merged_into"] == survivor["id"]
    patch = await services.contacts.patch(
        f"/v1/customers/{duplicate['id']}", json={"owner": "dan"}, headers={"If-Match": "*"}
    )
    assert patch.status_code == 409 and patch.json()["survivor_id"] == survivor["id"]
    listed = await services.contacts.get("/v1/customers", params={"name": duplicate["name"]})
    assert listed.json()["items"] == []

    audit_of_merged = (await services.contacts.get(f"/v1/customers/{duplicate['id']}/audit")).json()["items"]
    assert audit_of_merged[0]["action"] == "merged"
    assert audit_of_merged[0]["changes"]["merged_into"]["to"] == survivor["id"]
    audit_of_survivor = (await services.contacts.get(f"/v1/customers/{survivor['id']}/audit")).json()["items"]
    assert (
        audit_of_survivor[0]["action"] == "merged"
        and audit_of_survivor[0]["changes"]["merged_id"]["to"] == duplicate["id"]
    )

    async def merged_event():
        return [e for e in await contact_events(services, duplicate["id"]) if e.type == "crm.contact.merged.v1"]

    [event] = await eventually(merged_event)
    assert event.subject == duplicate["id"]
    assert event.data["survivor_id"] == survivor["id"] and event.data["survivor"]["owner"] == "carol"

    async def survivor_updated():
        return [e for e in await contact_events(services, survivor["id"]) if e.type == "crm.contact.updated.v1"]

    [update] = await eventually(survivor_updated)
    assert "external_ids" in update.data["changed"]


async def test_chained_merges_redirect_to_the_last_survivor(services) -> None:
    a, b, c = [await create(services, name=word(), email=unique_email()) for _ in range(3)]
    assert (
        await services.contacts.post(f"/v1/customers/{b['id']}/merge", json={"merged_id": a["id"]})
    ).status_code == 200
    assert (
        await services.contacts.post(f"/v1/customers/{c['id']}/merge", json={"merged_id": b["id"]})
    ).status_code == 200
    for old in (a, b):
        response = await services.contacts.get(f"/v1/customers/{old['id']}")
        assert response.status_code == 308 and response.headers["location"] == f"/v1/customers/{c['id']}"
    lookup = await services.contacts.get("/v1/customers", params={"email": a["email"]})
    assert [x["id"] for x in lookup.json()["items"]] == [c["id"]]

    # A retry of a merge that already happened changes nothing.
    again = await services.contacts.post(f"/v1/customers/{c['id']}/merge", json={"merged_id": a["id"]})
    assert (
        again.status_code == 200
        and again.json()["version"] == (await services.contacts.get(f"/v1/customers/{c['id']}")).json()["version"]
    )
    into_merged = await services.contacts.post(f"/v1/customers/{b['id']}/merge", json={"merged_id": a["id"]})
    assert into_merged.status_code == 409 and into_merged.json()["survivor_id"] == c["id"]
    d = await create(services, name=word(), email=unique_email())
    elsewhere = await services.contacts.post(f"/v1/customers/{d['id']}/merge", json={"merged_id": b["id"]})
    assert elsewhere.status_code == 409 and elsewhere.json()["survivor_id"] == c["id"]


async def test_merges_that_make_no_sense_are_refused_with_a_clear_problem(services) -> None:
    org = await create(services, name=word(), email=unique_email())
    person = await create(services, name=word(), kind="person", email=unique_email())
    myself = await services.contacts.post(f"/v1/customers/{org['id']}/merge", json={"merged_id": org["id"]})
    assert myself.status_code == 422 and myself.json()["errors"][0]["code"] == "same_customer"
    kinds = await services.contacts.post(f"/v1/customers/{org['id']}/merge", json={"merged_id": person["id"]})
    assert kinds.status_code == 422 and kinds.json()["errors"][0]["code"] == "kind_mismatch"
    unknown = await services.contacts.post(f"/v1/customers/{org['id']}/merge", json={"merged_id": str(uuid.uuid4())})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "merged_id"
    missing = await services.contacts.post(f"/v1/customers/{uuid.uuid4()}/merge", json={"merged_id": org["id"]})
    assert missing.status_code == 404


async def test_merging_organisations_moves_their_people(services) -> None:
    keep = await create(services, name=word(), email=unique_email())
    gone = await create(services, name=word(), email=unique_email())
    alice = await create(services, name="Alice Wong", kind="person", organisation_id=gone["id"])
    await create(services, name="Bob Lee", kind="person", organisation_id=gone["id"])
    namesake = await create(services, name="Bob Lee", kind="person", organisation_id=keep["id"])

    clash = await services.contacts.post(f"/v1/customers/{keep['id']}/merge", json={"merged_id": gone["id"]})
    assert clash.status_code == 409
    [pair] = clash.json()["clashes"]
    assert pair["survivor_person"] == namesake["id"] and pair["name"] == "Bob Lee"

    bob_in_gone = (
        await services.contacts.get("/v1/customers", params={"organisation_id": gone["id"], "name": "Bob"})
    ).json()["items"][0]
    merged_people = await services.contacts.post(
        f"/v1/customers/{namesake['id']}/merge", json={"merged_id": bob_in_gone["id"]}
    )
    assert merged_people.status_code == 200
    assert (
        await services.contacts.post(f"/v1/customers/{keep['id']}/merge", json={"merged_id": gone["id"]})
    ).status_code == 200
    people = (await services.contacts.get("/v1/customers", params={"organisation_id": keep["id"]})).json()["items"]
    assert sorted(p["name"] for p in people) == ["Alice Wong", "Bob Lee"]
    moved = (await services.contacts.get(f"/v1/customers/{alice['id']}")).json()
    assert moved["organisation_id"] == keep["id"] and moved["version"] == alice["version"] + 1
