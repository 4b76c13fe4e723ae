"""End to end over HTTP, with every process separate, as a call centre would use the system."""

import asyncio
import signal
import uuid

import httpx
import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.e2e


async def create_customer(contacts: httpx.AsyncClient, tier: str = "gold") -> dict:
    body = {
        "name": "Stark Industries",
        "email": unique_email(),
        "phone": unique_phone(),
        "tier": tier,
        "owner": "pepper",
    }
    response = await contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def complaint_body(customer_id: str, severity: str = "high") -> dict:
    return {
        "customer_id": customer_id,
        "type": "complaint",
        "category": "service.problem_resolution",
        "severity": severity,
        "channel": "phone",
        "description": "Ticket closed without a fix.",
    }


async def test_a_posted_complaint_yields_a_new_score_and_a_follow_up_task(live_system, token) -> None:
    async with (
        live_system.client("contacts", token) as contacts,
        live_system.client("feedback", token) as feedback,
        live_system.client("scoring", token) as scoring,
        live_system.client("notifications", token) as notifications,
    ):
        customer = await create_customer(contacts)
        # By phone, as a call centre that only knows the caller's number would.
        body = complaint_body(customer["id"]) | {"customer_id": None}
        body = {k: v for k, v in body.items() if v is not None} | {"customer": {"phone": customer["phone"]}}
        posted = await feedback.post("/v1/feedback", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        assert posted.status_code == 201, posted.text

        async def task():
            items = (await notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()["items"]
            return [t for t in items if t["type"] == "service_recovery"]

        [recovery] = await eventually(task, timeout=30)
        assert recovery["assignee"] == "pepper" and recovery["status"] == "open"

        async def rescored():
            response = await scoring.get(f"/v1/scores/{customer['id']}")
            return response.json() if response.status_code == 200 and response.json()["satisfaction"] < 75 else None

        score = await eventually(rescored, timeout=30)
        assert score["band"] == "at_risk" and score["explanation"]["components"]["complaints"] == 1
        assert recovery["correlation_id"] == posted.headers["x-correlation-id"]


async def test_one_idempotency_key_gives_one_feedback_one_score_change_one_task(live_system, token) -> None:
    async with (
        live_system.client("contacts", token) as contacts,
        live_system.client("feedback", token) as feedback,
        live_system.client("scoring", token) as scoring,
        live_system.client("notifications", token) as notifications,
    ):
        customer = await create_customer(contacts, tier="silver")
        key = {"Idempotency-Key": f"call-{uuid.uuid4()}"}
        body = complaint_body(customer["id"], "medium")
        answers = await asyncio.gather(*(feedback.post("/v1/feedback", json=body, headers=key) for _ in range(3)))
        answers.append(await feedback.post("/v1/feedback", json=body, headers=key))
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["id"] for a in answers}) == 1

        async def task():
            return (await notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()["items"]

        await eventually(task, timeout=30)
        await asyncio.sleep(1.0)  # let any duplicate arrive before counting
        items = (await feedback.get("/v1/feedback", params={"customer_id": customer["id"]})).json()["items"]
        assert len(items) == 1
        history = (await scoring.get(f"/v1/scores/{customer['id']}/history")).json()["items"]
        caused = [h for h in history if h["cause_event_type"] == "crm.feedback.received.v1"]
        assert len(caused) == 1
        tasks = await task()
        assert [t["type"] for t in tasks] == ["service_recovery"]


async def test_sigkill_of_workers_mid_burst_loses_and_doubles_nothing(live_system, token) -> None:
    supervisor = live_system.supervisor
    async with (
        live_system.client("contacts", token) as contacts,
        live_system.client("feedback", token) as feedback,
        live_system.client("scoring", token) as scoring,
        live_system.client("notifications", token) as notifications,
    ):
        customers = [await create_customer(contacts, tier="bronze") for _ in range(8)]

        async def burst(count: int) -> list[dict]:
            posted = []
            for i in range(count):
                customer = customers[i % len(customers)]
                response = await feedback.post(
                    "/v1/feedback",
                    json=complaint_body(customer["id"], "low"),
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
                assert response.status_code == 201, response.text
                posted.append(response.json())
                await asyncio.sleep(0.01)
            return posted

        sender = asyncio.create_task(burst(60))
        await asyncio.sleep(0.3)
        supervisor.kill("notifications-worker", signal.SIGKILL)
        supervisor.kill("scoring-worker", signal.SIGKILL)
        await asyncio.sleep(0.5)
        supervisor.start("notifications-worker")
        supervisor.start("scoring-worker")
        posted = await sender
        feedback_ids = {f["id"] for f in posted}

        async def all_tasks():
            found = []
            for customer in customers:
                cursor = None
                while True:
                    params = {"customer_id": customer["id"], "limit": 200} | ({"cursor": cursor} if cursor else {})
                    page = (await notifications.get("/v1/tasks", params=params)).json()
                    found += page["items"]
                    if not (cursor := page["next_cursor"]):
                        break
            recovery = [t for t in found if t["type"] == "service_recovery"]
            return recovery if len(recovery) >= len(posted) else None

        recovery = await eventually(all_tasks, timeout=90, interval=0.5)
        await asyncio.sleep(1.0)
        recovery = await all_tasks()
        assert len(recovery) == len(posted) == 60
        assert len({t["cause_event_id"] for t in recovery}) == 60

        async def complaints_scored() -> dict[str, int]:
            return {
                customer["id"]: (await scoring.get(f"/v1/scores/{customer['id']}")).json()["explanation"]["components"][
                    "complaints"
                ]
                for customer in customers
            }

        # The restarted scoring worker may wait out the killed member's session before the broker
        # hands it the partitions again: its catch-up can come later than the notifications one.
        expected = {
            customer["id"]: len([f for f in posted if f["customer_id"] == customer["id"]]) for customer in customers
        }

        async def all_scored() -> dict[str, int] | None:
            scored = await complaints_scored()
            return scored if all(scored[c] >= n for c, n in expected.items()) else None

        await eventually(all_scored, timeout=90, interval=0.5)
        await asyncio.sleep(1.0)
        assert await complaints_scored() == expected
        changes = 0
        for customer in customers:
            history = (await scoring.get(f"/v1/scores/{customer['id']}/history", params={"limit": 200})).json()["items"]
            changes += len([h for h in history if h["cause_event_type"] == "crm.feedback.received.v1"])
        # Every low complaint still moves an unsaturated score: exactly one change per complaint.
        assert changes == 60
        stored = set()
        for customer in customers:
            items = (await feedback.get("/v1/feedback", params={"customer_id": customer["id"], "limit": 200})).json()[
                "items"
            ]
            stored |= {f["id"] for f in items}
        assert stored == feedback_ids
