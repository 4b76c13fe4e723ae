"""Integration: the suggestion backlog's edges: an unmatched suggestion votes once its customer
appears, a merged customer counts once, staff edits are checked."""

import uuid

import pytest

from crm_devstack.testing import envelopes, eventually, read_topic, unique_email, unique_phone

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


async def test_moving_an_item_on_is_announced_once(services) -> None:
    product = f"blender-{uuid.uuid4().hex[:8]}"
    customer = await new_customer(services)
    posted = await services.feedback.post("/v1/feedback", json=suggestion(product, customer_id=customer["id"]))
    assert posted.status_code == 201, posted.text

    async def listed():
        return await items_of(services, product) or None

    [item] = await eventually(listed)
    path = f"/v1/backlog/{item['id']}"
    for _ in range(2):  # the retry changes nothing
        planned = await services.feedback.patch(path, json={"status": "planned", "priority": "high"})
        assert planned.status_code == 200 and (planned.json()["status"], planned.json()["priority"]) == (
            "planned",
            "high",
        )
    assert (await services.feedback.patch(path, json={"status": "done"})).status_code == 200

    async def changes():
        events = envelopes(await read_topic(services.stack.bootstrap, "crm.feedback"))
        found = [
            e
            for e in events
            if e.type == "crm.feedback.backlog_item_changed.v1" and e.data["backlog_item_id"] == item["id"]
        ]
        return found if len(found) >= 2 else None

    events = await eventually(changes)
    assert [(e.data["previous_status"], e.data["status"]) for e in events] == [("open", "planned"), ("planned", "done")]
    assert events[0].data["previous_priority"] == "medium" and events[0].data["changed_by"] == "tests"
    assert {e.subject for e in events} == {f"backlog:{item['id']}"}
