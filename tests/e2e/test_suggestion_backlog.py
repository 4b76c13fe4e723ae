"""Done-when of the suggestion backlog, end to end over HTTP with every Procfile process separate:
the same suggestion from three customers becomes one backlog item with three votes, each customer
gets the default playbook's task, and staff link a differently worded suggestion by hand."""

import uuid

import pytest

from crm_devstack.testing import envelopes, eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.e2e


async def test_a_suggestion_from_three_customers_is_one_backlog_item_with_three_votes(live_system, token) -> None:
    product = f"scanner-{uuid.uuid4().hex[:8]}"
    async with (
        live_system.client("contacts", token) as contacts,
        live_system.client("feedback", token) as feedback,
        live_system.client("notifications", token) as notifications,
    ):
        customers = []
        for name in ("Acme", "Globex", "Umbrella"):
            body = {"name": name, "email": unique_email(), "phone": unique_phone(), "tier": "gold", "owner": "ana"}
            created = await contacts.post("/v1/customers", json=body)
            assert created.status_code == 201, created.text
            customers.append(created.json())
        suggestion_ids = []
        for customer in customers:
            posted = await feedback.post(
                "/v1/feedback",
                json={
                    "customer_id": customer["id"],
                    "type": "suggestion",
                    "category": "product.features",
                    "product": product,
                    "channel": "web",
                    "description": "Please add duplex scanning.",
                },
            )
            assert posted.status_code == 201, posted.text
            assert posted.json()["status"] == "received"
            suggestion_ids.append(posted.json()["id"])
        # The second customer suggests it again: still one vote from them.
        again = await feedback.post(
            "/v1/feedback",
            json={
                "customer_id": customers[1]["id"],
                "type": "suggestion",
                "category": "product.features",
                "product": product,
                "channel": "email",
                "description": "Duplex, please!",
            },
        )
        assert again.status_code == 201, again.text

        async def voted():
            items = (await feedback.get("/v1/backlog", params={"product": product})).json()["items"]
            return items if items and items[0]["votes"] == 3 and len(items) == 1 else None

        [item] = await eventually(voted, timeout=30)
        assert (item["theme_key"], item["status"], item["priority"]) == (
            f"{product}|product.features",
            "open",
            "medium",
        )
        detail = (await feedback.get(f"/v1/backlog/{item['id']}")).json()

        async def all_linked():
            found = (await feedback.get(f"/v1/backlog/{item['id']}")).json()
            return found if len(found["suggestions"]) == 4 else None

        detail = await eventually(all_linked, timeout=30)
        assert {s["customer_id"] for s in detail["suggestions"]} == {c["id"] for c in customers}

        async def vote_events():
            events = envelopes(await read_topic(live_system.stack.bootstrap, "crm.feedback"))
            found = [
                e.data
                for e in events
                if e.type == "crm.feedback.suggestion_voted.v1" and e.data["backlog_item_id"] == item["id"]
            ]
            return found if len(found) == 4 else None

        events = await eventually(vote_events, timeout=30)
        assert [e["new_item"] for e in events].count(True) == 1 and max(e["votes"] for e in events) == 3

        # Staff judge a suggestion worded without a category to be the same request.
        customer4 = (
            await contacts.post(
                "/v1/customers",
                json={"name": "Initrode", "email": unique_email(), "phone": unique_phone(), "tier": "silver"},
            )
        ).json()
        loose = await feedback.post(
            "/v1/feedback",
            json={
                "customer_id": customer4["id"],
                "type": "suggestion",
                "product": product,
                "channel": "phone",
                "description": "Scan both sides of the page at once.",
            },
        )
        assert loose.status_code == 201, loose.text

        async def own_item():
            items = (await feedback.get("/v1/backlog", params={"product": product})).json()["items"]
            return items if len(items) == 2 else None

        await eventually(own_item, timeout=30)
        linked = await feedback.post(f"/v1/backlog/{item['id']}/suggestions", json={"feedback_id": loose.json()["id"]})
        assert linked.status_code == 200, linked.text
        assert linked.json()["votes"] == 4
        items = (await feedback.get("/v1/backlog", params={"product": product})).json()["items"]
        assert [i["id"] for i in items] == [item["id"]]

        prioritised = await feedback.patch(f"/v1/backlog/{item['id']}", json={"priority": "high", "status": "planned"})
        assert prioritised.status_code == 200 and prioritised.json()["priority"] == "high"

        async def review_tasks():
            found = []
            for customer in customers:
                tasks = (await notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()["items"]
                found += [t for t in tasks if t["type"] == "review_suggestion"]
            return found if len(found) >= 3 else None

        await eventually(review_tasks, timeout=30)
