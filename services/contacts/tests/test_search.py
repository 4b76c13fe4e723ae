"""Integration: ranked, typo-tolerant name search."""

import random
import string
import uuid

import pytest

from crm_devstack.testing import unique_email

pytestmark = pytest.mark.integration


def word() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()


async def create(services, **body) -> dict:
    response = await services.contacts.post("/v1/customers", json={"tier": "silver", "email": unique_email()} | body)
    assert response.status_code == 201, response.text
    return response.json()


async def search(services, **params) -> list[dict]:
    response = await services.contacts.get("/v1/customers/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_search_tolerates_typos_and_word_order_and_ranks_by_score(services) -> None:
    brand = word()
    logistics = await create(services, name=f"{brand} Logistics")
    foods = await create(services, name=f"{brand} Foods")

    for q in (f"{brand} Logistcs", f"logistics {brand.lower()}", f"{brand[:-1]} Logistics"):
        hits = await search(services, q=q)
        assert hits[0]["customer"]["id"] == logistics["id"], q
        assert 0.6 < hits[0]["score"] <= 1
    ranked = await search(services, q=brand)
    ids = [h["customer"]["id"] for h in ranked]
    assert {logistics["id"], foods["id"]} <= set(ids)
    scores = [h["score"] for h in ranked]
    assert scores == sorted(scores, reverse=True)
    assert len(await search(services, q=brand, limit=1)) == 1


async def test_search_filters_by_kind_and_organisation(services) -> None:
    org = await create(services, name=word())
    surname = word()
    alice = await create(services, name=f"Alice {surname}", kind="person", organisation_id=org["id"])
    elsewhere = await create(services, name=f"Alicia {surname}", kind="person")
    people = [h["customer"]["id"] for h in await search(services, q=f"Alice {surname}", kind="person")]
    assert people[:2] == [alice["id"], elsewhere["id"]]
    in_org = await search(services, q=f"Alice {surname}", organisation_id=org["id"])
    assert [h["customer"]["id"] for h in in_org] == [alice["id"]]
    assert await search(services, q=f"Alice {surname}", kind="organisation") == []


async def test_search_never_finds_merged_or_erased_records(services) -> None:
    brand = word()
    survivor = await create(services, name=f"{brand} Shipping")
    merged = await create(services, name=f"{brand} Shipping Ltd")
    erased = await create(services, name=f"{brand} Shipping Group")
    assert (
        await services.contacts.post(f"/v1/customers/{survivor['id']}/merge", json={"merged_id": merged["id"]})
    ).status_code == 200
    erasure = await services.contacts.post(f"/v1/customers/{erased['id']}/erasure", json={"reason": "DSR-1"})
    assert erasure.status_code == 200
    hits = await search(services, q=f"{brand} Shiping")
    assert [h["customer"]["id"] for h in hits] == [survivor["id"]]
    assert await search(services, q="Erased customer", limit=100) == [] or all(
        h["customer"]["status"] == "active" for h in await search(services, q="Erased customer", limit=100)
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "--"}, "q"),
        ({"q": "acme", "limit": 0}, "limit"),
        ({"q": "a", "page": 2}, "query.page"),
    ],
)
async def test_bad_search_input_is_a_422(services, params, field) -> None:
    response = await services.contacts.get("/v1/customers/search", params=params)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_search_route_does_not_shadow_customer_ids(services) -> None:
    customer = await create(services, name=word())
    assert (await services.contacts.get(f"/v1/customers/{customer['id']}")).status_code == 200
    assert (await services.contacts.get(f"/v1/customers/{uuid.uuid4()}")).status_code == 404
