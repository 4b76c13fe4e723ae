"""Integration: the contacts API against the real PostgreSQL and broker."""

import uuid

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.integration


def customer_body(**overrides):
    return {
        "name": "Acme Logistics",
        "email": unique_email(),
        "phone": unique_phone(),
        "tier": "gold",
        "owner": "alice",
    } | overrides


async def test_create_normalises_identifiers_and_publishes_the_customer_card(services) -> None:
    body = customer_body(email=unique_email("Mixed.Case").upper())
    created = await services.contacts.post("/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["email"] == body["email"].lower()
    assert customer["phone"].startswith("+1212") and " " not in customer["phone"]
    assert created.headers["location"] == f"/v1/customers/{customer['id']}"

    fetched = await services.contacts.get(f"/v1/customers/{customer['id']}")
    assert fetched.json() == customer

    async def published():
        records = await read_topic(services.stack.bootstrap, "crm.contacts")
        return [r for r in records if r.key == customer["id"].encode()]

    [record] = await eventually(published)
    headers = dict(record.headers)
    assert headers["ce_type"] == b"crm.contact.created.v1"
    assert headers["correlation_id"] == created.headers["x-correlation-id"].encode()


async def test_a_duplicate_email_or_phone_is_a_conflict_naming_the_existing_record(services) -> None:
    first = (await services.contacts.post("/v1/customers", json=customer_body())).json()
    duplicate = await services.contacts.post(
        "/v1/customers", json=customer_body(email=first["email"].upper(), name="Acme (again)")
    )
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    assert duplicate.json()["candidates"] == [first["id"]]


async def test_idempotency_key_replays_the_first_answer(services) -> None:
    body = customer_body()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await services.contacts.post("/v1/customers", json=body, headers=key)
    again = await services.contacts.post("/v1/customers", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    listed = await services.contacts.get("/v1/customers", params={"email": body["email"]})
    assert len(listed.json()["items"]) == 1

    reused = await services.contacts.post("/v1/customers", json=customer_body(), headers=key)
    assert reused.status_code == 422 and reused.json()["type"].endswith("idempotency-key-reused")


async def test_lookup_by_phone_in_any_format_and_keyset_pagination(services) -> None:
    owner = f"owner-{uuid.uuid4().hex[:8]}"
    made = [(await services.contacts.post("/v1/customers", json=customer_body(owner=owner))).json() for _ in range(5)]
    national = made[2]["phone"].removeprefix("+1")
    found = await services.contacts.get(
        "/v1/customers", params={"phone": f"({national[:3]}) {national[3:6]}-{national[6:]}"}
    )
    assert [c["id"] for c in found.json()["items"]] == [made[2]["id"]]

    seen, cursor = [], None
    while True:
        page = (
            await services.contacts.get(
                "/v1/customers", params={"owner": owner, "limit": 2} | ({"cursor": cursor} if cursor else {})
            )
        ).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [c["id"] for c in made]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "x@example.com"}, "name"),
        ({"name": "X", "email": "not-an-email"}, "email"),
        ({"name": "X", "phone": "12"}, "phone"),
        ({"name": "X", "tier": "platinum"}, "tier"),
        ({"name": "X", "shoe_size": 44}, "shoe_size"),
    ],
)
async def test_invalid_input_is_a_422_with_the_field_and_stores_nothing(services, body, field) -> None:
    before = await services.contacts.get("/v1/customers", params={"name": body.get("name", "~none~"), "limit": 200})
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in problem["errors"]]
    after = await services.contacts.get("/v1/customers", params={"name": body.get("name", "~none~"), "limit": 200})
    assert after.json()["items"] == before.json()["items"]


async def test_a_misspelt_or_repeated_filter_is_a_422_not_a_silently_wrong_list(services) -> None:
    await services.contacts.post("/v1/customers", json=customer_body())
    response = await services.contacts.get("/v1/customers", params={"teir": "key"})
    assert response.status_code == 422
    problem = response.json()
    assert [e["field"] for e in problem["errors"]] == ["query.teir"]
    assert "tier" in problem["detail"]
    repeated = await services.contacts.get("/v1/customers", params=[("name", "Acme"), ("name", "Globex")])
    assert repeated.status_code == 422 and repeated.json()["errors"][0]["code"] == "repeated"


async def test_auth_is_required_and_scopes_are_enforced(services) -> None:
    from crm_shared.config import AuthSettings
    from crm_shared.http.auth import mint_token

    anonymous = await services.contacts.post("/v1/customers", json=customer_body(), headers={"Authorization": ""})
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"].startswith("Bearer")
    garbage = await services.contacts.get("/v1/customers", headers={"Authorization": "Bearer not-a-jwt"})
    assert garbage.status_code == 401
    reader = mint_token(AuthSettings(), scopes=("contacts:read",))
    forbidden = await services.contacts.post(
        "/v1/customers", json=customer_body(), headers={"Authorization": f"Bearer {reader}"}
    )
    assert forbidden.status_code == 403


async def test_malformed_json_is_a_400_problem(services) -> None:
    response = await services.contacts.post(
        "/v1/customers", content=b'{"name": "Acme",', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Malformed JSON"


async def test_health_and_readiness(services) -> None:
    assert (await services.contacts.get("/healthz")).json() == {"status": "ok"}
    ready = await services.contacts.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "broker": "ok"}


async def updates_of(services, customer_id: str) -> list:
    records = await read_topic(services.stack.bootstrap, "crm.contacts")
    return [
        r for r in records if r.key == customer_id.encode() and dict(r.headers)["ce_type"] == b"crm.contact.updated.v1"
    ]


async def test_a_patch_with_the_read_etag_changes_only_what_it_names_and_publishes_the_new_card(services) -> None:
    created = (await services.contacts.post("/v1/customers", json=customer_body(tier="silver"))).json()
    read = await services.contacts.get(f"/v1/customers/{created['id']}")
    assert read.headers["etag"] == '"1"'

    patched = await services.contacts.patch(
        f"/v1/customers/{created['id']}",
        json={"tier": "key", "tier_reason": "signed a framework agreement", "owner": "bob"},
        headers={"If-Match": read.headers["etag"]},
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == '"2"'
    customer = patched.json()
    assert (customer["tier"], customer["owner"], customer["version"]) == ("key", "bob", 2)
    assert (customer["name"], customer["email"], customer["phone"]) == (
        created["name"],
        created["email"],
        created["phone"],
    )

    [record] = await eventually(lambda: updates_of(services, created["id"]))
    data = Envelope.model_validate_json(record.value).data
    assert data["changed"] == ["owner", "tier"] and data["tier"] == "key" and data["version"] == 2


async def test_a_stale_or_missing_if_match_changes_nothing(services) -> None:
    created = (await services.contacts.post("/v1/customers", json=customer_body(owner="alice"))).json()
    url = f"/v1/customers/{created['id']}"
    first = await services.contacts.patch(url, json={"owner": "bob"}, headers={"If-Match": '"1"'})
    assert first.status_code == 200

    stale = await services.contacts.patch(url, json={"owner": "carol"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    missing = await services.contacts.patch(url, json={"owner": "carol"})
    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    assert (await services.contacts.get(url)).json()["owner"] == "bob"
    assert len(await updates_of(services, created["id"])) == 1


async def test_a_patch_that_changes_nothing_keeps_the_version_and_publishes_nothing(services) -> None:
    created = (await services.contacts.post("/v1/customers", json=customer_body(owner="alice"))).json()
    same = await services.contacts.patch(
        f"/v1/customers/{created['id']}", json={"owner": "alice", "tier": created["tier"]}, headers={"If-Match": "*"}
    )
    assert same.status_code == 200 and same.json()["version"] == 1
    assert await updates_of(services, created["id"]) == []


async def test_patching_to_another_customers_email_is_a_conflict_naming_it(services) -> None:
    first = (await services.contacts.post("/v1/customers", json=customer_body())).json()
    second = (await services.contacts.post("/v1/customers", json=customer_body())).json()
    clash = await services.contacts.patch(
        f"/v1/customers/{second['id']}", json={"email": first["email"].upper()}, headers={"If-Match": '"1"'}
    )
    assert clash.status_code == 409 and clash.json()["candidates"] == [first["id"]]
    assert (await services.contacts.get(f"/v1/customers/{second['id']}")).json()["email"] == second["email"]


@pytest.mark.parametrize(
    ("patch", "field"), [({}, None), ({"tier": None}, None), ({"tier": "platinum"}, "tier"), ({"age": 3}, "age")]
)
async def test_an_invalid_patch_is_a_422_and_changes_nothing(services, patch, field) -> None:
    created = (await services.contacts.post("/v1/customers", json=customer_body())).json()
    response = await services.contacts.patch(f"/v1/customers/{created['id']}", json=patch, headers={"If-Match": '"1"'})
    assert response.status_code == 422, response.text
    if field:
        assert field in [e["field"] for e in response.json()["errors"]]
    assert (await services.contacts.get(f"/v1/customers/{created['id']}")).json()["version"] == 1


async def test_the_audit_log_says_who_changed_what_and_when_newest_first(services) -> None:
    from crm_shared.config import AuthSettings
    from crm_shared.http.auth import mint_token

    agent = {"Authorization": f"Bearer {mint_token(AuthSettings(), subject='agent-7')}"}
    created = (await services.contacts.post("/v1/customers", json=customer_body(owner="alice"), headers=agent)).json()
    url = f"/v1/customers/{created['id']}"
    changed = await services.contacts.patch(
        url, json={"owner": "bob"}, headers=agent | {"If-Match": '"1"', "X-Correlation-Id": "ticket-4711"}
    )
    assert changed.status_code == 200
    refused = await services.contacts.patch(url, json={"owner": "eve"}, headers=agent | {"If-Match": '"1"'})
    assert refused.status_code == 412  # a refused change leaves no trace in the log
    await services.contacts.patch(
        url, json={"tier": "key", "tier_reason": "board decision"}, headers=agent | {"If-Match": '"2"'}
    )

    log = (await services.contacts.get(f"{url}/audit")).json()["items"]
    assert [e["action"] for e in log] == ["tier_overridden", "updated", "updated", "created"]
    assert {e["actor"] for e in log} == {"agent-7"}
    assert log[0]["changes"]["tier_override_reason"]["to"] == "board decision"
    assert log[1]["changes"] == {"tier": {"from": created["tier"], "to": "key"}}
    assert log[2]["changes"] == {"owner": {"from": "alice", "to": "bob"}}
    assert log[2]["correlation_id"] == "ticket-4711"
    assert log[3]["changes"]["email"] == {"from": None, "to": created["email"]}

    first = (await services.contacts.get(f"{url}/audit", params={"limit": 2})).json()
    rest = (await services.contacts.get(f"{url}/audit", params={"cursor": first["next_cursor"]})).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in log]
    assert (await services.contacts.get(f"/v1/customers/{uuid.uuid4()}/audit")).status_code == 404


async def test_external_ids_identify_one_customer_and_a_second_claim_is_a_conflict(services) -> None:
    ref = uuid.uuid4().hex[:10]
    ids = [{"system": "callcentre", "id": f"C-{ref}"}, {"system": "erp", "id": f"D-{ref}"}]
    created = await services.contacts.post("/v1/customers", json=customer_body(external_ids=ids))
    assert created.status_code == 201, created.text
    assert created.json()["external_ids"] == ids

    found = await services.contacts.get("/v1/customers", params={"external_id": f"erp:D-{ref}"})
    assert [c["id"] for c in found.json()["items"]] == [created.json()["id"]]
    nobody = await services.contacts.get("/v1/customers", params={"external_id": f"erp:C-{ref}"})
    assert nobody.json()["items"] == []
    malformed = await services.contacts.get("/v1/customers", params={"external_id": "no-system"})
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "external_id"

    clash = await services.contacts.post("/v1/customers", json=customer_body(external_ids=[ids[1]]))
    assert clash.status_code == 409 and clash.json()["candidates"] == [created.json()["id"]]


async def test_patching_external_ids_replaces_the_list_and_frees_what_it_drops(services) -> None:
    ref = uuid.uuid4().hex[:10]
    old, kept, new = ({"system": s, "id": f"{s}-{ref}"} for s in ("webshop", "erp", "callcentre"))
    customer = (await services.contacts.post("/v1/customers", json=customer_body(external_ids=[old, kept]))).json()
    url = f"/v1/customers/{customer['id']}"

    patched = await services.contacts.patch(url, json={"external_ids": [kept, new]}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    assert patched.json()["external_ids"] == [new, kept]  # ordered by system
    [entry, _] = (await services.contacts.get(f"{url}/audit")).json()["items"]
    assert entry["changes"] == {
        "external_ids": {
            "from": [f"erp:erp-{ref}", f"webshop:webshop-{ref}"],
            "to": [f"callcentre:callcentre-{ref}", f"erp:erp-{ref}"],
        }
    }

    other = await services.contacts.post("/v1/customers", json=customer_body(external_ids=[old]))
    assert other.status_code == 201  # the dropped id is free again
    taken = await services.contacts.patch(
        f"/v1/customers/{other.json()['id']}", json={"external_ids": [old, new]}, headers={"If-Match": '"1"'}
    )
    assert taken.status_code == 409 and taken.json()["candidates"] == [customer["id"]]


async def test_the_profile_segments_customers_the_way_account_teams_filter_them(services) -> None:
    region = f"region-{uuid.uuid4().hex[:6]}"
    body = customer_body(
        region=region,
        industry="logistics",
        size="large",
        lifecycle_stage="prospect",
        tags=["VIP ", "vip", "Fleet"],
        consent={"email": True, "sms": False},
        attributes={"erp_segment": "A", "fleet_size": 140},
    )
    created = await services.contacts.post("/v1/customers", json=body)
    assert created.status_code == 201, created.text
    customer = created.json()
    assert customer["tags"] == ["vip", "fleet"]
    assert customer["consent"] == {"email": True, "sms": False}
    assert (customer["lifecycle_stage"], customer["credit_standing"], customer["size"]) == ("prospect", "good", "large")
    assert customer["attributes"] == {"erp_segment": "A", "fleet_size": 140}

    async def ids(**params) -> list[str]:
        return [
            c["id"]
            for c in (await services.contacts.get("/v1/customers", params={"region": region} | params)).json()["items"]
        ]

    assert await ids(tag="VIP") == [customer["id"]]
    assert await ids(lifecycle_stage="prospect") == [customer["id"]]
    assert await ids(lifecycle_stage="churned") == []
    assert await ids(tag="gold") == []


async def test_credit_on_notice_needs_a_reason_and_reaches_the_other_services_with_the_card(services) -> None:
    refused = await services.contacts.post("/v1/customers", json=customer_body(credit_standing="poor"))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "credit_reason"

    customer = (await services.contacts.post("/v1/customers", json=customer_body())).json()
    url = f"/v1/customers/{customer['id']}"
    no_reason = await services.contacts.patch(url, json={"credit_standing": "watch"}, headers={"If-Match": '"1"'})
    assert no_reason.status_code == 422
    on_notice = await services.contacts.patch(
        url,
        json={"credit_standing": "poor", "credit_reason": "3 invoices over 90 days", "lifecycle_stage": "at_risk"},
        headers={"If-Match": '"1"'},
    )
    assert on_notice.status_code == 200, on_notice.text
    [record] = await eventually(lambda: updates_of(services, customer["id"]))
    card = Envelope.model_validate_json(record.value).data
    assert card["changed"] == ["credit_reason", "credit_standing", "lifecycle_stage"]
    assert (card["credit_standing"], card["lifecycle_stage"]) == ("poor", "at_risk")
    [entry, _] = (await services.contacts.get(f"{url}/audit")).json()["items"]
    assert entry["changes"]["credit_standing"] == {"from": "good", "to": "poor"}


async def test_people_belong_to_an_organisation_once_and_are_listed_with_it(services) -> None:
    organisation = (await services.contacts.post("/v1/customers", json=customer_body(name="Globex"))).json()
    assert organisation["kind"] == "organisation"

    def person(name: str, **extra) -> dict:
        return customer_body(name=name, kind="person", organisation_id=organisation["id"]) | extra

    hank = await services.contacts.post("/v1/customers", json=person("Hank  Scorpio"))
    assert hank.status_code == 201, hank.text
    again = await services.contacts.post("/v1/customers", json=person("hank scorpio"))
    assert again.status_code == 409 and again.json()["candidates"] == [hank.json()["id"]]
    elsewhere = await services.contacts.post(
        "/v1/customers", json=person("Frank Grimes", organisation_id=hank.json()["id"])
    )
    assert elsewhere.status_code == 422 and elsewhere.json()["errors"][0]["field"] == "organisation_id"
    not_a_person = await services.contacts.post(
        "/v1/customers", json=customer_body(name="Sub Corp", organisation_id=organisation["id"])
    )
    assert not_a_person.status_code == 422

    people = (await services.contacts.get("/v1/customers", params={"organisation_id": organisation["id"]})).json()
    assert [p["id"] for p in people["items"]] == [hank.json()["id"]]
    left = await services.contacts.patch(
        f"/v1/customers/{hank.json()['id']}", json={"organisation_id": None}, headers={"If-Match": '"1"'}
    )
    assert left.status_code == 200 and left.json()["organisation_id"] is None
    [entry, _] = (await services.contacts.get(f"/v1/customers/{hank.json()['id']}/audit")).json()["items"]
    assert entry["changes"] == {"organisation_id": {"from": organisation["id"], "to": None}}


async def test_a_retried_patch_with_its_idempotency_key_replays_the_answer_and_changes_nothing_more(services) -> None:
    created = (await services.contacts.post("/v1/customers", json=customer_body(owner="alice"))).json()
    url = f"/v1/customers/{created['id']}"
    headers = {"If-Match": '"1"', "Idempotency-Key": str(uuid.uuid4())}
    first = await services.contacts.patch(url, json={"owner": "bob"}, headers=headers)
    again = await services.contacts.patch(url, json={"owner": "bob"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.headers["etag"] == '"2"'
    assert again.json() == first.json()
    assert len((await services.contacts.get(f"{url}/audit")).json()["items"]) == 2  # created + one update
    assert len(await updates_of(services, created["id"])) == 1


async def test_language_and_time_zone_are_kept_patched_and_carried_in_the_card(services) -> None:
    """Messages use them: the template variant and the customer's quiet hours."""
    for bad in ({"timezone": "Mars/Olympus"}, {"language": "german!"}):
        refused = await services.contacts.post("/v1/customers", json=customer_body(**bad))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == next(iter(bad))
    created = (await services.contacts.post("/v1/customers", json=customer_body(language="de"))).json()
    assert (created["language"], created["timezone"]) == ("de", None)

    patched = await services.contacts.patch(
        f"/v1/customers/{created['id']}",
        json={"language": "zh-Hans", "timezone": "Asia/Shanghai"},
        headers={"If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["language"], patched.json()["timezone"]) == ("zh-Hans", "Asia/Shanghai")
    [record] = await eventually(lambda: updates_of(services, created["id"]))
    data = Envelope.model_validate_json(record.value).data
    assert data["changed"] == ["language", "timezone"]
    assert (data["language"], data["timezone"]) == ("zh-Hans", "Asia/Shanghai")
