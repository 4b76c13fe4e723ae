"""Integration: the suggestion backlog's edges: an unmatched suggestion votes once its customer
appears, a merged customer counts once, staff edits are checked."""

import uuid

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, email: str | None = None) -> dict:
    body = {"name": "Vandelay Industries", "email": email or unique_email(), "phone": unique_phone(), "tier": "silver"}
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def suggestion(product: str, **who) -> dict:
    return {
        "type": "suggestion",
        "category": "product.design",
        "product": product,
        "channel": "web",
        "description": "Make the lid open to the left.",
    } | who


async def items_of(services, product: str) -> list[dict]:
    response = await services.feedback.get("/v1/backlog", params={"product": product})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_an_unmatched_suggestion_votes_once_its_customer_appears(services) -> None:
    product, email = f"kettle-{uuid.uuid4().hex[:8]}", unique_email()
    waiting = await services.feedback.post("/v1/feedback", json=suggestion(product, customer={"email": email}))
    assert waiting.status_code == 201 and waiting.json()["customer_id"] is None
    assert await items_of(services, product) == []

    customer = await new_customer(services, email=email)

    async def voted():
        items = await items_of(services, product)
        return items if items and items[0]["votes"] == 1 else None

    [item] = await eventually(voted)
    detail = (await services.feedback.get(f"/v1/backlog/{item['id']}")).json()
    assert [(s["feedback_id"], s["customer_id"]) for s in detail["suggestions"]] == [
        (waiting.json()["id"], customer["id"])
    ]


async def test_a_merged_customer_votes_once_and_staff_edits_are_checked(services) -> None:
    product = f"toaster-{uuid.uuid4().hex[:8]}"
    survivor, duplicate = await new_customer(services), await new_customer(services)
    for customer in (survivor, duplicate):
        posted = await services.feedback.post("/v1/feedback", json=suggestion(product, customer_id=customer["id"]))
        assert posted.status_code == 201, posted.text

    async def two_votes():
        items = await items_of(services, product)
        return items if items and items[0]["votes"] == 2 else None

    [item] = await eventually(two_votes)
    merged = await services.contacts.post(f"/v1/customers/{survivor['id']}/merge", json={"merged_id": duplicate["id"]})
    assert merged.status_code == 200, merged.text

    async def one_vote():
        items = await items_of(services, product)
        return items if items and items[0]["votes"] == 1 else None

    await eventually(one_vote)

    assert (await services.feedback.patch(f"/v1/backlog/{item['id']}", json={"priority": "asap"})).status_code == 422
    assert (await services.feedback.patch(f"/v1/backlog/{uuid.uuid4()}", json={"priority": "low"})).status_code == 404
    praise = await services.feedback.post(
        "/v1/feedback",
        json={"customer_id": survivor["id"], "type": "praise", "channel": "web", "description": "Lovely toaster."},
    )
    refused = await services.feedback.post(
        f"/v1/backlog/{item['id']}/suggestions", json={"feedback_id": praise.json()["id"]}
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "feedback_id"
    assert (await services.feedback.get(f"/v1/backlog/{item['id']}")).json()["votes"] == 1
