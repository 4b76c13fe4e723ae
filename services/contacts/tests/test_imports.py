"""Integration: bulk imports (CSV and JSON Lines) against the real PostgreSQL, broker and contacts worker."""

import json
import uuid

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.config import AuthSettings
from crm_shared.contracts import Envelope
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.integration

CSV = {"Content-Type": "text/csv"}
JSONL = {"Content-Type": "application/x-ndjson"}
HEADER = "external_id,name,kind,email,phone,tier,owner,tags,organisation_external_id\n"


def national(phone: str) -> str:
    """`+1 212 555 0142` written as a caller would: `(212) 555-0142`."""
    digits = phone.removeprefix("+1").replace(" ", "")
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def e164(phone: str) -> str:
    return phone.replace(" ", "")


async def upload(services, body: str, headers: dict, **extra_headers: str):
    response = await services.contacts.post(
        "/v1/imports", params={"kind": "customers"}, content=body.encode(), headers=headers | extra_headers
    )
    assert response.status_code == 202, response.text
    return response


async def finished(services, job_id: str) -> dict:
    async def done():
        job = (await services.contacts.get(f"/v1/imports/{job_id}")).json()
        return job if job["status"] in ("completed", "failed") else None

    job = await eventually(done)
    assert job["status"] == "completed", job
    return job


async def errors_of(services, job_id: str) -> dict[int, dict]:
    page = (await services.contacts.get(f"/v1/imports/{job_id}/errors")).json()
    return {e["row_number"]: e for e in page["items"]}


async def customer(services, external_id: str) -> dict | None:
    items = (await services.contacts.get("/v1/customers", params={"external_id": external_id})).json()["items"]
    return items[0] if items else None


async def contact_events(services, customer_ids: list[str]) -> list:
    keys = {c.encode() for c in customer_ids}
    return [r for r in await read_topic(services.stack.bootstrap, "crm.contacts") if r.key in keys]


def a_file(tag: str, existing_email: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """Four good rows (an organisation, a person in it, two more) and four bad ones."""
    ids = {name: f"erp:{tag}-{name}" for name in ("org", "person", "quoted", "plain", "bad-phone", "dup", "tier")}
    phones = {name: unique_phone() for name in ("org", "person", "quoted", "plain", "dup")}
    rows = [
        f"{ids['org']},Acme Logistics {tag},organisation,{unique_email()},{national(phones['org'])},key,alice,VIP;emea,",
        f"{ids['person']},Wile E. Coyote {tag},person,,{phones['person']},,alice,,{ids['org']}",
        f'{ids["quoted"]},"Roadrunner, Inc.\nBeep Beep {tag}",organisation,,{phones["quoted"]},gold,bob,,',
        f"{ids['plain']},Plain Co {tag},,,{phones['plain']},silver,,,",
        f"{ids['bad-phone']},Bad Phone {tag},,,12,,,,",  # row 5: phone
        f",No External Id {tag},,,,,,,",  # row 6: external_id
        f"{ids['dup']},Duplicate {tag},,{existing_email.upper()},{phones['dup']},,,,",  # row 7: email
        f"{ids['tier']},Bad Tier {tag},,,,platinum,,,",  # row 8: tier
    ]
    return HEADER + "\r\n".join(rows) + "\r\n", ids, phones


async def test_a_csv_import_creates_the_good_rows_and_reports_each_bad_one(services) -> None:
    tag = uuid.uuid4().hex[:8]
    existing = (
        await services.contacts.post("/v1/customers", json={"name": f"Existing {tag}", "email": unique_email()})
    ).json()
    body, ids, phones = a_file(tag, existing["email"])

    response = await upload(services, body, CSV)
    job = response.json()
    assert response.headers["location"] == f"/v1/imports/{job['id']}"
    assert (job["status"], job["rows_received"], job["kind"], job["format"]) == ("queued", 8, "customers", "csv")

    job = await finished(services, job["id"])
    assert (job["created"], job["updated"], job["unchanged"], job["failed"]) == (4, 0, 0, 4)
    assert job["rows_processed"] == 8 and job["progress_percent"] == 100.0
    assert job["started_at"] and job["finished_at"]

    errors = await errors_of(services, job["id"])
    assert {n: [e["field"] for e in r["errors"]] for n, r in errors.items()} == {
        5: ["phone"],
        6: ["external_id"],
        7: ["email"],
        8: ["tier"],
    }
    assert errors[5]["line"] == 7  # header is line 1; the quoted name of row 3 spans two lines
    assert errors[5]["external_id"] == ids["bad-phone"]
    assert errors[7]["errors"][0]["candidates"] == [existing["id"]]

    org = await customer(services, ids["org"])
    assert org["phone"] == e164(phones["org"]) and org["tier"] == "key" and org["tags"] == ["vip", "emea"]
    person = await customer(services, ids["person"])
    assert (person["kind"], person["organisation_id"]) == ("person", org["id"])
    quoted = await customer(services, ids["quoted"])
    assert quoted["name"] == f"Roadrunner, Inc.\nBeep Beep {tag}"
    assert await customer(services, ids["bad-phone"]) is None

    audit = (await services.contacts.get(f"/v1/customers/{org['id']}/audit")).json()["items"]
    assert [(a["action"], a["actor"]) for a in audit] == [("created", "tests")]
    created = await eventually(lambda: contact_events(services, [org["id"], person["id"]]))
    assert sorted(dict(r.headers)["ce_type"] for r in created) == [b"crm.contact.created.v1"] * 2


async def test_re_running_the_same_file_changes_nothing_and_a_modified_one_only_what_changed(services) -> None:
    tag = uuid.uuid4().hex[:8]
    existing = (
        await services.contacts.post("/v1/customers", json={"name": f"Existing {tag}", "email": unique_email()})
    ).json()
    body, ids, _ = a_file(tag, existing["email"])
    first = await finished(services, (await upload(services, body, CSV)).json()["id"])
    good = [(await customer(services, ids[n])) for n in ("org", "person", "quoted", "plain")]
    good_ids = [c["id"] for c in good]
    await eventually(lambda: len_is(contact_events(services, good_ids), 4))

    again = await finished(services, (await upload(services, body, CSV)).json()["id"])
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 4, 4)
    assert sorted(await errors_of(services, again["id"])) == sorted(await errors_of(services, first["id"]))
    assert [await customer(services, ids[n]) for n in ("org", "person", "quoted", "plain")] == good
    assert len(await contact_events(services, good_ids)) == 4  # nothing new was published

    modified = body.replace(",silver,,", ",silver,carol,")  # the plain row gets an owner
    third = await finished(services, (await upload(services, modified, CSV)).json()["id"])
    assert (third["created"], third["updated"], third["unchanged"], third["failed"]) == (0, 1, 3, 4)
    plain = await customer(services, ids["plain"])
    assert (plain["owner"], plain["version"]) == ("carol", 2)
    [update] = await eventually(lambda: updates(services, good_ids))
    assert update.key == plain["id"].encode()
    assert Envelope.model_validate_json(update.value).data["changed"] == ["owner"]


async def len_is(events, n: int) -> bool:
    return len(await events) == n


async def updates(services, customer_ids: list[str]) -> list:
    return [
        r
        for r in await contact_events(services, customer_ids)
        if dict(r.headers)["ce_type"] == b"crm.contact.updated.v1"
    ]


async def test_a_json_lines_import_reports_unreadable_and_invalid_lines_by_row(services) -> None:
    tag = uuid.uuid4().hex[:8]
    phone = unique_phone()
    lines = [
        {"external_id": f"web:{tag}-1", "name": f"Json One {tag}", "phone": national(phone), "tags": ["a", "A "]},
        {"external_ids": [{"system": "web", "id": f"{tag}-2"}], "name": f"Json Two {tag}", "tier": "gold"},
        "{not json",
        [1, 2],
        {"external_id": f"web:{tag}-5", "name": f"Json Five {tag}", "shoe_size": 44},
        {"external_id": f"web:{tag}-6", "name": f"Json Six {tag}", "email": "not-an-email"},
        {"external_id": f"web:{tag}-7", "name": f"Json Seven {tag}", "credit_standing": "poor"},
    ]
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n\n"
    job = await finished(services, (await upload(services, body, JSONL)).json()["id"])
    assert (job["rows_received"], job["created"], job["failed"], job["format"]) == (7, 2, 5, "jsonl")
    errors = await errors_of(services, job["id"])
    assert {n: [e["field"] for e in r["errors"]] for n, r in errors.items()} == {
        3: ["row"],
        4: ["row"],
        5: ["shoe_size"],
        6: ["email"],
        7: ["credit_reason"],
    }
    assert "not valid JSON" in errors[3]["errors"][0]["message"]
    one = await customer(services, f"web:{tag}-1")
    assert one["phone"] == e164(phone) and one["tags"] == ["a"]
    assert (await customer(services, f"web:{tag}-2"))["tier"] == "gold"


async def test_a_retried_upload_with_the_same_idempotency_key_is_the_same_job(services) -> None:
    tag = uuid.uuid4().hex[:8]
    body = HEADER + f"erp:{tag},Retry Co {tag},,,,,,,\n"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await upload(services, body, CSV, **key)
    again = await upload(services, body, CSV, **key)
    assert again.json()["id"] == first.json()["id"] and again.headers["idempotent-replayed"] == "true"
    await finished(services, first.json()["id"])
    listed = (await services.contacts.get("/v1/imports", params={"limit": 200})).json()["items"]
    assert [j["id"] for j in listed].count(first.json()["id"]) == 1
    other = await services.contacts.post(
        "/v1/imports", params={"kind": "customers"}, content=(body + body[-20:]).encode(), headers=CSV | key
    )
    assert other.status_code == 422 and other.json()["type"].endswith("idempotency-key-reused")


@pytest.mark.parametrize(
    ("content_type", "body", "status", "field"),
    [
        ("application/json", '{"name": "x"}', 415, None),
        ("text/csv; charset=latin-1", "name,external_id\nx,erp:1\n", 415, None),
        ("text/csv", "name,external_id,shoe_size\nx,erp:1,44\n", 422, "columns.shoe_size"),
        ("text/csv", "name,email\nx,x@example.com\n", 422, "columns.external_id"),
        ("text/csv", "", 422, "body"),
        ("application/x-ndjson", "\n\n", 422, "body"),
    ],
)
async def test_a_file_that_cannot_be_read_is_refused_whole(services, content_type, body, status, field) -> None:
    before = (await services.contacts.get("/v1/imports", params={"limit": 1})).json()["items"]
    response = await services.contacts.post(
        "/v1/imports", params={"kind": "customers"}, content=body.encode(), headers={"Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert field in [e["field"] for e in response.json()["errors"]]
    assert (await services.contacts.get("/v1/imports", params={"limit": 1})).json()["items"] == before


async def test_importing_needs_the_import_scope_and_reading_progress_the_read_scope(services) -> None:
    job = (await upload(services, HEADER + f"erp:{uuid.uuid4().hex},Scoped Co,,,,,,,\n", CSV)).json()
    reader = {"Authorization": f"Bearer {mint_token(AuthSettings(), scopes=('contacts:read',))}"}
    refused = await services.contacts.post(
        "/v1/imports", params={"kind": "customers"}, content=b"name,external_id\n", headers=CSV | reader
    )
    assert refused.status_code == 403
    assert (await services.contacts.get(f"/v1/imports/{job['id']}", headers=reader)).status_code == 200
    assert (await services.contacts.get(f"/v1/imports/{uuid.uuid4()}")).status_code == 404


async def test_a_row_that_fails_half_way_rolls_back_alone(services) -> None:
    tag = uuid.uuid4().hex[:8]
    a = {"external_id": f"web:{tag}-a", "name": f"Alpha {tag}", "owner": "alice"}
    b = {"external_id": f"web:{tag}-b", "name": f"Beta {tag}", "owner": "bob"}
    await finished(services, (await upload(services, f"{json.dumps(a)}\n{json.dumps(b)}\n", JSONL)).json()["id"])

    # Row 1 changes the owner, then fails the credit check (poor needs a reason) after the change was
    # made on the record: the savepoint takes it back, and the rows after it still see the record.
    rows = [a | {"owner": "carol", "credit_standing": "poor"}, b, a, b | {"owner": "dave"}]
    job = await finished(services, (await upload(services, "\n".join(map(json.dumps, rows)), JSONL)).json()["id"])
    assert (job["updated"], job["unchanged"], job["failed"]) == (1, 2, 1)
    assert [e["field"] for e in (await errors_of(services, job["id"]))[1]["errors"]] == ["credit_reason"]
    alpha = await customer(services, a["external_id"])
    assert (alpha["owner"], alpha["credit_standing"], alpha["version"]) == ("alice", "good", 1)
    assert (await customer(services, b["external_id"]))["owner"] == "dave"


async def test_two_rows_of_one_file_with_the_same_email_create_one_customer(services) -> None:
    tag = uuid.uuid4().hex[:8]
    email = unique_email()
    body = HEADER + "".join(
        f"erp:{tag}-{n},Same Mail {tag} {n},,{mail},,,,,\n" for n, mail in ((1, email), (2, email.upper()), (3, ""))
    )
    job = await finished(services, (await upload(services, body, CSV)).json()["id"])
    assert (job["created"], job["failed"]) == (2, 1)
    first, third = await customer(services, f"erp:{tag}-1"), await customer(services, f"erp:{tag}-3")
    [error] = (await errors_of(services, job["id"]))[2]["errors"]
    assert (error["field"], error["code"], error["candidates"]) == ("email", "duplicate", [first["id"]])
    assert await customer(services, f"erp:{tag}-2") is None
    audit = (await services.contacts.get(f"/v1/customers/{third['id']}/audit")).json()["items"]
    assert [(a["action"], a["actor"]) for a in audit] == [("created", "tests")]
    events = await eventually(lambda: len_is_list(contact_events(services, [first["id"], third["id"]]), 2))
    assert sorted((r.key, dict(r.headers)["ce_type"]) for r in events) == sorted(
        (c["id"].encode(), b"crm.contact.created.v1") for c in (first, third)
    )


async def len_is_list(events, n: int) -> list | None:
    found = await events
    return found if len(found) >= n else None


ACTIVITY_HEADER = (
    "customer_external_id,kind,occurred_at,external_ref,amount,currency,products,starts_on,ends_on,"
    "renewal_of_external_ref,annual_value,purpose,visited_by,direction,duration_seconds,handled_by\n"
)


async def activity_events(services, customer_id: str) -> list:
    return [
        r
        for r in await contact_events(services, [customer_id])
        if dict(r.headers)["ce_type"] == b"crm.contact.activity_recorded.v1"
    ]


async def test_an_activities_import_records_the_good_rows_and_a_re_run_changes_nothing(services) -> None:
    tag = uuid.uuid4().hex[:8]
    ext = f"erp:{tag}"
    created = await services.contacts.post(
        "/v1/customers", json={"name": f"Active Co {tag}", "external_ids": [{"system": "erp", "id": tag}]}
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["id"]
    rows = [
        f"{ext},order,2025-03-14T10:00:00Z,SO-{tag}-1,1250.00,eur,pump-x200;service-kit,,,,,,,,,",
        f"{ext},contract,2025-01-02T09:00:00Z,CT-{tag}-1,,EUR,,2025-01-01,2025-12-31,,48000,,,,,",
        f"{ext},contract,2025-12-20T09:00:00Z,CT-{tag}-2,,,,2026-01-01,,CT-{tag}-1,,,,,,",
        f"{ext},visit,2025-04-01T09:00:00+02:00,VI-{tag}-1,,,,,,,,yearly review,ceo,,,",
        f"{ext},call,2025-04-02T09:00:00Z,CA-{tag}-1,,,,,,,,,,inbound,420,agent-7",
        f"erp:nobody-{tag},order,2025-03-14T10:00:00Z,SO-{tag}-2,10,EUR,,,,,,,,,,",  # row 6: unknown customer
        f"{ext},order,2025-03-14T10:00:00Z,SO-{tag}-3,-5,EUR,,,,,,,,,,",  # row 7: amount
        f"{ext},order,2025-03-14T10:00:00Z,,10,EUR,,,,,,,,,,",  # row 8: external_ref
        f"{ext},contract,2025-03-14T10:00:00Z,CT-{tag}-3,,,,2025-01-01,,CT-{tag}-nope,,,,,,",  # row 9: renewal
        f"{ext},meeting,2025-03-14T10:00:00Z,MT-{tag}-1,,,,,,,,,,,,",  # row 10: kind
    ]
    body = ACTIVITY_HEADER + "\n".join(rows) + "\n"

    async def run() -> dict:
        response = await services.contacts.post(
            "/v1/imports", params={"kind": "activities"}, content=body.encode(), headers=CSV
        )
        assert response.status_code == 202, response.text
        assert response.json()["kind"] == "activities"
        return await finished(services, response.json()["id"])

    job = await run()
    assert (job["created"], job["unchanged"], job["failed"]) == (5, 0, 5)
    errors = await errors_of(services, job["id"])
    assert {n: [e["field"] for e in r["errors"]] for n, r in errors.items()} == {
        6: ["customer_external_id"],
        7: ["amount"],
        8: ["external_ref"],
        9: ["renewal_of_external_ref"],
        10: ["kind"],
    }
    assert errors[6]["errors"][0]["code"] == "unknown_customer"
    items = (await services.contacts.get(f"/v1/customers/{customer_id}/activities")).json()["items"]
    by_ref = {a["external_ref"]: a for a in items}
    assert sorted(by_ref) == sorted([f"SO-{tag}-1", f"CT-{tag}-1", f"CT-{tag}-2", f"VI-{tag}-1", f"CA-{tag}-1"])
    order = by_ref[f"SO-{tag}-1"]["details"]
    assert (order["currency"], order["products"]) == ("EUR", ["pump-x200", "service-kit"])
    assert by_ref[f"CT-{tag}-2"]["details"]["renewal_of"] == by_ref[f"CT-{tag}-1"]["id"]
    assert by_ref[f"CA-{tag}-1"]["details"]["duration_seconds"] == 420
    assert all(a["recorded_by"] == "tests" for a in items)
    recorded = await eventually(lambda: len_is_list(activity_events(services, customer_id), 5))
    assert len(recorded) == 5

    again = await run()
    assert (again["created"], again["unchanged"], again["failed"]) == (0, 5, 5)
    assert len((await services.contacts.get(f"/v1/customers/{customer_id}/activities")).json()["items"]) == 5
    assert len(await activity_events(services, customer_id)) == 5  # nothing new was published


async def test_a_person_whose_name_is_close_to_one_already_in_the_organisation_is_a_duplicate_row(
    services,
) -> None:
    tag = uuid.uuid4().hex[:6]
    org, first, second = (f"erp:{tag}-{n}" for n in ("org", "first", "second"))
    body = HEADER + "".join(
        [
            f"{org},Globex {tag},organisation,,,,,,\n",
            f"{first},Hank Scorpio,person,,,,,,{org}\n",
            f"{second},Hank Scorpion,person,,,,,,{org}\n",  # a typo of the same man
        ]
    )
    job = await finished(services, (await upload(services, body, CSV)).json()["id"])

    assert (job["created"], job["failed"]) == (2, 1)
    [error] = (await errors_of(services, job["id"]))[3]["errors"]
    assert (error["field"], error["code"]) == ("name", "duplicate")
    assert error["candidates"] == [(await customer(services, first))["id"]]
    assert await customer(services, second) is None
