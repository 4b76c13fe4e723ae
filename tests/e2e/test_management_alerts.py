"""Alerts that reach people, with every Procfile process separate (docs/domain.md#alerts-that-reach-people).

Key accounts are held to a stricter complaint rate than the rest (a segment threshold). When
their rate crosses it, the service manager gets exactly one task, even when the crossing event
is delivered three times; when the rate recovers, the task closes itself and says why.
"""

import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.e2e

INDICATOR = "complaint_rate_per_100"
SUBJECT = f"indicator:{INDICATOR}:tier:key"


async def key_account(contacts: httpx.AsyncClient) -> dict:
    body = {"name": "Tyrell", "email": unique_email(), "phone": unique_phone(), "tier": "key", "owner": "alice"}
    response = await contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def complain(feedback: httpx.AsyncClient, customer_id: str) -> None:
    body = {
        "customer_id": customer_id,
        "type": "complaint",
        "category": "service.delivery",
        "severity": "medium",
        "channel": "phone",
        "description": "Late again.",
    }
    response = await feedback.post("/v1/feedback", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text


async def key_month(scoring: httpx.AsyncClient) -> dict | None:
    params = {"dimension": "tier", "segment": "key", "period": "month"}
    items = (await scoring.get("/v1/indicators", params=params)).json()["items"]
    return items[0] if items else None


async def test_key_accounts_complaint_rate_alert_makes_one_task_for_the_service_manager_closed_on_recovery(
    live_system, token
) -> None:
    async with (
        live_system.client("contacts", token) as contacts,
        live_system.client("feedback", token) as feedback,
        live_system.client("scoring", token) as scoring,
        live_system.client("notifications", token) as notifications,
    ):
        staff = await notifications.put("/v1/staff/sam", json={"email": "sam@crm.example", "role": "service_manager"})
        assert staff.status_code == 200, staff.text
        # Stricter for key accounts: the shipped threshold (5 per 100, from 20 customers) stays for the rest.
        strict = {"value": 60, "direction": "above", "min_sample": 1, "enabled": True, "period": "month"}
        put = await scoring.put(f"/v1/indicator-thresholds/{INDICATOR}/segments/tier/key", json=strict)
        assert put.status_code == 200, put.text
        listed = (await scoring.get("/v1/indicator-thresholds")).json()
        assert [(s["indicator"], s["dimension"], s["segment"], s["value"]) for s in listed["segments"]] == [
            (INDICATOR, "tier", "key", 60.0)
        ]
        first, second = await key_account(contacts), await key_account(contacts)

        async def counted(customers: int, complaints: int):
            item = await key_month(scoring)
            c = item["counters"] if item else {}
            return item if c.get("customers_joined") == customers and c.get("complaints") == complaints else None

        await eventually(lambda: counted(2, 0), timeout=30)
        await complain(feedback, first["id"])  # 50 per 100: inside
        await eventually(lambda: counted(2, 1), timeout=30)
        await complain(feedback, second["id"])  # 100 per 100: crossed

        async def alert_task():
            tasks = (await notifications.get("/v1/tasks", params={"subject": SUBJECT})).json()["items"]
            return tasks or None

        [task] = await eventually(alert_task, timeout=30)
        assert (task["type"], task["assignee"], task["customer_id"], task["status"]) == (
            "indicator_alert",
            "sam",
            None,
            "open",
        )
        assert task["title"].startswith("Indicator alert: complaint_rate_per_100 of tier key is 100")

        # The crossing delivered twice more: still one task.
        [record] = [
            r
            for r in await read_topic(live_system.stack.bootstrap, "crm.scores")
            if r.key == SUBJECT.encode() and b'"crossed"' in r.value
        ]
        producer = AIOKafkaProducer(bootstrap_servers=live_system.stack.bootstrap, acks="all")
        await producer.start()
        try:
            for _ in range(2):
                await producer.send_and_wait("crm.scores", record.value, key=record.key, headers=list(record.headers))
        finally:
            await producer.stop()

        # Two more key accounts: 2 complaints per 4 customers = 50, back inside. The recovery is
        # published on the same partition after the copies, so once it closed the task the copies
        # were handled too.
        await key_account(contacts)
        await key_account(contacts)

        async def closed():
            tasks = (await notifications.get("/v1/tasks", params={"subject": SUBJECT})).json()["items"]
            return tasks if tasks and all(t["status"] == "done" for t in tasks) else None

        [done] = await eventually(closed, timeout=30)
        assert done["id"] == task["id"]
        assert done["outcome"].startswith(
            "Closed automatically: complaint_rate_per_100 of tier key recovered to 50 (threshold 60, alert when above)"
        )
        [alert] = (await scoring.get("/v1/alerts", params={"indicator": INDICATOR, "dimension": "tier"})).json()[
            "items"
        ]
        assert (alert["segment"], alert["state"], alert["recovered_value"]) == ("key", "closed", 50.0)
        mine = (await notifications.get("/v1/tasks", params={"assignee": "sam"})).json()["items"]
        assert [t["id"] for t in mine] == [task["id"]]
