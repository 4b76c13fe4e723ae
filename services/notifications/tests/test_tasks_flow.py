"""Integration: complaints and score drops become follow-up tasks, exactly once."""

import asyncio
import uuid
from datetime import datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, tier: str, owner: str | None = "erin") -> dict:
    body = {"name": "Umbrella", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": owner}
    return (await services.contacts.post("/v1/customers", json=body)).json()


async def tasks_of(services, customer_id: str) -> list[dict]:
    return (await services.notifications.get("/v1/tasks", params={"customer_id": customer_id})).json()["items"]


async def complain(services, customer_id: str, severity: str) -> dict:
    response = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer_id,
            "type": "complaint",
            "category": "service.delivery",
            "severity": severity,
            "channel": "phone",
            "description": "Late again.",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_complaint_creates_a_service_recovery_task_for_the_owner_due_by_severity_and_tier(services) -> None:
    customer = await new_customer(services, tier="gold")
    feedback = await complain(services, customer["id"], "medium")

    tasks = await eventually(lambda: tasks_of(services, customer["id"]))
    [task] = [t for t in tasks if t["type"] == "service_recovery"]
    assert task["assignee"] == "erin" and task["status"] == "open" and task["priority"] == "normal"
    due = datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(feedback["received_at"])
    assert due == timedelta(hours=72 * 0.75)
    assert task["cause_event_type"] == "crm.feedback.received.v1"


async def test_a_key_account_high_complaint_makes_recovery_review_visit_and_retention_tasks(services) -> None:
    customer = await new_customer(services, tier="key")
    await complain(services, customer["id"], "high")

    async def all_four():
        tasks = await tasks_of(services, customer["id"])
        return tasks if len(tasks) >= 4 else None

    tasks = await eventually(all_four)
    assert sorted(t["type"] for t in tasks) == [
        "key_account_review",
        "management_visit",
        "retention_plan",
        "service_recovery",
    ]
    assert {t["assignee"] for t in tasks} == {"erin"}
    by_type = {t["type"]: t for t in tasks}
    assert by_type["key_account_review"]["action_key"] == "key_account_complaint:0"
    assert by_type["management_visit"]["action_key"] == "key_account_complaint:1"
    assert by_type["service_recovery"]["priority"] == by_type["key_account_review"]["priority"] == "high"
    await asyncio.sleep(0.5)
    assert len(await tasks_of(services, customer["id"])) == 4


async def test_a_customer_without_owner_goes_to_the_service_desk_queue(services) -> None:
    customer = await new_customer(services, tier="bronze", owner=None)
    await complain(services, customer["id"], "low")
    [task] = await eventually(lambda: tasks_of(services, customer["id"]))
    assert task["assignee"] == "service-desk"


async def test_an_event_delivered_three_times_creates_one_task(services) -> None:
    """Redelivery (a relay re-send, a rebalance) must not duplicate work."""
    from crm_shared.contracts import Envelope

    customer = await new_customer(services, tier="silver")
    await complain(services, customer["id"], "critical")

    async def recovery_tasks():
        return [t for t in await tasks_of(services, customer["id"]) if t["type"] == "service_recovery"]

    [task] = await eventually(recovery_tasks)

    feedback_records = [r for r in await _records(services, "crm.feedback") if r.key == customer["id"].encode()]
    [original] = feedback_records
    producer = AIOKafkaProducer(bootstrap_servers=services.stack.bootstrap, acks="all")
    await producer.start()
    try:
        for _ in range(2):
            await producer.send_and_wait(
                "crm.feedback", original.value, key=original.key, headers=list(original.headers)
            )
    finally:
        await producer.stop()

    marker = await complain(services, customer["id"], "low")  # same partition: processed after the copies

    async def marker_handled():
        return len(await recovery_tasks()) >= 2

    await eventually(marker_handled)
    await asyncio.sleep(0.3)
    tasks = await tasks_of(services, customer["id"])
    recovery = [t for t in tasks if t["type"] == "service_recovery"]
    assert len(recovery) == 2, tasks  # the critical complaint's and the marker's, nothing doubled
    assert len([t for t in tasks if t["type"] == "retention_plan"]) == 1
    assert task["id"] in {t["id"] for t in recovery}
    assert Envelope.model_validate_json(original.value).data["feedback_id"] != marker["id"]


async def _records(services, topic):
    from crm_devstack.testing import read_topic

    return await read_topic(services.stack.bootstrap, topic)


async def test_unknown_task_is_404(services) -> None:
    response = await services.notifications.get(f"/v1/tasks/{uuid.uuid4()}")
    assert response.status_code == 404


async def test_a_customer_promoted_to_key_account_with_a_new_owner_is_handled_so_on_the_next_complaint(
    services,
) -> None:
    customer = await new_customer(services, tier="silver", owner="erin")
    promoted = await services.contacts.patch(
        f"/v1/customers/{customer['id']}",
        json={"tier": "key", "tier_reason": "became a key account", "owner": "frank"},
        headers={"If-Match": '"1"'},
    )
    assert promoted.status_code == 200

    async def card_reached(service: str) -> bool:
        connection = await asyncpg.connect(services.stack.database_url(service).replace("+asyncpg", ""))
        try:
            row = await connection.fetchrow(
                "SELECT tier, owner FROM customer_projection WHERE customer_id = $1", uuid.UUID(customer["id"])
            )
        finally:
            await connection.close()
        return row is not None and tuple(row) == ("key", "frank")

    await eventually(lambda: card_reached("feedback"))
    await eventually(lambda: card_reached("notifications"))
    feedback = await complain(services, customer["id"], "high")
    assert feedback["customer_tier"] == "key"

    async def recovery_and_review():
        tasks = await tasks_of(services, customer["id"])
        return tasks if {"service_recovery", "key_account_review"} <= {t["type"] for t in tasks} else None

    tasks = await eventually(recovery_and_review)
    assert {t["assignee"] for t in tasks} == {"frank"}
