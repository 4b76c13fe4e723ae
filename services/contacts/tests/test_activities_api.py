"""Integration: recording and listing a customer's commercial history (orders, contracts, visits, calls)."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.integration


async def new_customer(services, **overrides) -> dict:
    body = {"name": "Initrode", "email": unique_email(), "phone": unique_phone()} | overrides
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def at(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


def order(amount: str = "1250.00", days_ago: int = 1, **extra) -> dict:
    return {"occurred_at": at(days_ago), "details": {"kind": "order", "amount": amount, "currency": "EUR"}} | extra


async def events_of(services, customer_id: str, event_type: str) -> list[Envelope]:
    records = await read_topic(services.stack.bootstrap, "crm.contacts")
    return [
        Envelope.model_validate_json(r.value)
        for r in records
        if r.key == customer_id.encode() and dict(r.headers)["ce_type"] == event_type.encode()
    ]


async def test_an_order_is_recorded_published_audited_and_listed_newest_first(services) -> None:
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}/activities"
    recorded = await services.contacts.post(
        url,
        json=order("1250.50", days_ago=3)
        | {"details": {"kind": "order", "amount": 1250.5, "currency": "eur", "products": ["pump-x200"]}},
    )
    assert recorded.status_code == 201, recorded.text
    activity = recorded.json()
    assert activity["details"] == {
        "kind": "order",
        "amount": "1250.5",
        "currency": "EUR",
        "products": ["pump-x200"],
    }
    assert recorded.headers["location"] == f"{url}/{activity['id']}"
    assert (await services.contacts.get(recorded.headers["location"])).json() == activity

    visit = {"occurred_at": at(2), "details": {"kind": "visit", "purpose": "yearly review", "visited_by": "ceo"}}
    call = {"occurred_at": at(1), "details": {"kind": "call", "direction": "inbound", "duration_seconds": 300}}
    later = [(await services.contacts.post(url, json=body)).json() for body in (visit, call)]

    listed = (await services.contacts.get(url)).json()
    assert [a["id"] for a in listed["items"]] == [later[1]["id"], later[0]["id"], activity["id"]]
    first = (await services.contacts.get(url, params={"limit": 2})).json()
    rest = (await services.contacts.get(url, params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [a["id"] for a in first["items"] + rest["items"]] == [a["id"] for a in listed["items"]]
    assert rest["next_cursor"] is None
    orders = (await services.contacts.get(url, params={"kind": "order"})).json()
    assert [a["id"] for a in orders["items"]] == [activity["id"]]
    recent = (await services.contacts.get(url, params={"since": at(2.5)})).json()
    assert [a["id"] for a in recent["items"]] == [later[1]["id"], later[0]["id"]]

    events = await eventually(
        lambda: _all_three(events_of(services, customer["id"], "crm.contact.activity_recorded.v1"))
    )
    assert [e.data["activity_id"] for e in events] == [activity["id"], later[0]["id"], later[1]["id"]]
    assert events[0].data["details"]["amount"] == "1250.5" and events[2].data["details"]["direction"] == "inbound"
    audit = (await services.contacts.get(f"/v1/customers/{customer['id']}/audit")).json()["items"]
    assert [e["action"] for e in audit].count("activity_recorded") == 3


async def _all_three(events):
    found = await events
    return found if len(found) == 3 else None


async def test_an_external_ref_already_recorded_returns_the_same_activity_and_publishes_nothing_more(
    services,
) -> None:
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}/activities"
    first = await services.contacts.post(url, json=order(external_ref="erp:SO-1001"))
    again = await services.contacts.post(url, json=order("99.00", external_ref="erp:SO-1001"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json() and "location" not in again.headers
    other = await new_customer(services)
    elsewhere = await services.contacts.post(
        f"/v1/customers/{other['id']}/activities", json=order(external_ref="erp:SO-1001")
    )
    assert elsewhere.status_code == 201  # a reference is unique per customer

    assert len((await services.contacts.get(url)).json()["items"]) == 1
    await eventually(lambda: events_of(services, other["id"], "crm.contact.activity_recorded.v1"))
    assert len(await events_of(services, customer["id"], "crm.contact.activity_recorded.v1")) == 1


async def test_an_idempotency_key_replays_the_first_answer(services) -> None:
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}/activities"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = order()
    first = await services.contacts.post(url, json=body, headers=key)
    again = await services.contacts.post(url, json=body, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true" and again.json() == first.json()
    assert len((await services.contacts.get(url)).json()["items"]) == 1


async def test_a_renewal_must_renew_a_contract_of_the_same_customer(services) -> None:
    customer, other = await new_customer(services), await new_customer(services)
    url = f"/v1/customers/{customer['id']}/activities"
    today = date.today()
    contract = {"kind": "contract", "starts_on": str(today - timedelta(days=400)), "ends_on": str(today)}
    theirs = await services.contacts.post(
        f"/v1/customers/{other['id']}/activities", json={"occurred_at": at(400), "details": contract}
    )
    ours = await services.contacts.post(url, json={"occurred_at": at(400), "details": contract})
    assert theirs.status_code == ours.status_code == 201

    renewal = {"kind": "contract", "starts_on": str(today + timedelta(days=1)), "ends_on": None}
    refused = await services.contacts.post(
        url, json={"occurred_at": at(1), "details": renewal | {"renewal_of": theirs.json()["id"]}}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0] == {
        "field": "details.renewal_of",
        "message": f"{theirs.json()['id']} is not a contract of this customer",
        "code": "unknown_contract",
    }
    renewed = await services.contacts.post(
        url, json={"occurred_at": at(1), "details": renewal | {"renewal_of": ours.json()["id"]}}
    )
    assert renewed.status_code == 201 and renewed.json()["details"]["renewal_of"] == ours.json()["id"]


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"kind": "contract", "starts_on": "2025-06-01", "ends_on": "2025-05-31"}, "details.contract.ends_on"),
        ({"kind": "order", "amount": "-1", "currency": "EUR"}, "details.order.amount"),
        ({"kind": "order", "amount": "10", "currency": "EURO"}, "details.order.currency"),
        ({"kind": "order", "amount": "10"}, "details.order.currency"),
        ({"kind": "webinar"}, "details"),
    ],
)
async def test_invalid_activities_are_a_422_naming_the_field_and_store_nothing(services, details, field) -> None:
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}/activities"
    response = await services.contacts.post(url, json={"occurred_at": at(1), "details": details})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert (await services.contacts.get(url)).json()["items"] == []


async def test_the_future_a_naive_time_or_an_unknown_customer_are_refused(services) -> None:
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}/activities"
    future = await services.contacts.post(url, json=order() | {"occurred_at": at(-3)})
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "occurred_at"
    naive = await services.contacts.post(url, json=order() | {"occurred_at": "2025-01-01T10:00:00"})
    assert naive.status_code == 422 and naive.json()["errors"][0]["field"] == "occurred_at"
    unknown = await services.contacts.post(f"/v1/customers/{uuid.uuid4()}/activities", json=order())
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert (await services.contacts.get(f"/v1/customers/{uuid.uuid4()}/activities")).status_code == 404
    misspelt = await services.contacts.get(url, params={"knd": "order"})
    assert misspelt.status_code == 422 and misspelt.json()["errors"][0]["field"] == "query.knd"
