"""Playbooks and escalation with every Procfile process separate.

(1) A key-account complaint delivered three times (the same envelope re-published twice) makes
its service-recovery, account-manager and senior-management-visit tasks once each.
(2) An overdue task escalates to the team lead within a second of its deadline; (3) if the
notifications worker is down at the deadline, it escalates as soon as the worker is back.
Times are the ones the system records (`due_at`, `escalated_at`), not the test's own timing.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.e2e

# The escalation playbook's tasks are due 3.6 s after the complaint.
DUE_HOURS = 0.001


async def customer(contacts: httpx.AsyncClient, tier: str, owner: str) -> dict:
    body = {"name": "Cyberdyne", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": owner}
    response = await contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def complain(feedback: httpx.AsyncClient, customer_id: str, category: str, severity: str = "high") -> dict:
    response = await feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer_id,
            "type": "complaint",
            "category": category,
            "severity": severity,
            "channel": "phone",
            "description": "Delivery missed twice.",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def tasks_of(notifications: httpx.AsyncClient, customer_id: str) -> list[dict]:
    return (await notifications.get("/v1/tasks", params={"customer_id": customer_id})).json()["items"]


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_key_account_tasks_once_each_and_escalation_at_the_deadline_across_a_worker_outage(
    live_system, token
) -> None:
    async with (
        live_system.client("contacts", token) as contacts,
        live_system.client("feedback", token) as feedback,
        live_system.client("notifications", token) as notifications,
    ):
        # (1) one complaint, three deliveries.
        key_account = await customer(contacts, "key", "alice")
        original = await complain(feedback, key_account["id"], "service.delivery")
        wanted = {"service_recovery", "key_account_review", "management_visit"}

        async def key_account_tasks():
            tasks = await tasks_of(notifications, key_account["id"])
            return tasks if wanted <= {t["type"] for t in tasks} else None

        await eventually(key_account_tasks, timeout=30)
        [record] = [
            r
            for r in await read_topic(live_system.stack.bootstrap, "crm.feedback")
            if r.key == key_account["id"].encode() and b"crm.feedback.received.v1" in r.value
        ]
        producer = AIOKafkaProducer(bootstrap_servers=live_system.stack.bootstrap, acks="all")
        await producer.start()
        try:
            for _ in range(2):
                await producer.send_and_wait("crm.feedback", record.value, key=record.key, headers=list(record.headers))
        finally:
            await producer.stop()
        marker = await complain(
            feedback, key_account["id"], "service.delivery", "low"
        )  # same partition, after the copies

        async def marker_handled():
            tasks = await tasks_of(notifications, key_account["id"])
            return tasks if len([t for t in tasks if t["type"] == "service_recovery"]) == 2 else None

        tasks = await eventually(marker_handled, timeout=30)
        by_cause: dict[str, list[str]] = {}
        for task in tasks:
            if task["type"] in wanted:
                by_cause.setdefault(task["cause_event_id"], []).append(task["type"])
        # The original complaint's three tasks and the marker's three, nothing doubled.
        assert sorted(sorted(types) for types in by_cause.values()) == [sorted(wanted)] * 2, by_cause
        assert Envelope.model_validate_json(record.value).id in {uuid.UUID(c) for c in by_cause}
        assert {t["assignee"] for t in tasks if t["type"] in wanted} == {"alice"}  # the owner the event carries
        assert original["id"] != marker["id"]

        # (2) and (3): a team with a lead, a playbook with a short due time.
        team = {"members": ["olga"], "lead": "lena", "manager": "mark", "escalate_after_minutes": 60}
        assert (await notifications.put("/v1/teams/care", json=team)).status_code == 200
        escalation = {
            "trigger": {
                "event": "crm.feedback.received.v1",
                "conditions": [{"on": "category", "prefix": "purchase.time"}],
            },
            "actions": [
                {
                    "kind": "create_task",
                    "task_type": "quick_check",
                    "title": "Check the {severity} complaint",
                    "due": {"hours": DUE_HOURS},
                }
            ],
        }
        assert (await notifications.put("/v1/playbooks/quick-check", json=escalation)).status_code == 200
        member = await customer(contacts, "silver", "olga")

        async def quick_check(level: int = 0):
            found = [t for t in await tasks_of(notifications, member["id"]) if t["type"] == "quick_check"]
            found = [t for t in found if t["escalation_level"] >= level and t["id"] not in seen]
            return found[0] if found else None

        seen: set[str] = set()
        await complain(feedback, member["id"], "purchase.time")
        on_time = await eventually(lambda: quick_check(1), timeout=30)
        seen.add(on_time["id"])
        assert (on_time["assignee"], on_time["team"]) == ("lena", "care")
        lateness = at(on_time["escalated_at"]) - at(on_time["due_at"])
        assert timedelta(0) <= lateness < timedelta(seconds=1), lateness

        await complain(feedback, member["id"], "purchase.time")
        waiting = await eventually(quick_check, timeout=30)
        assert waiting["escalation_level"] == 0
        live_system.stop("notifications-worker")
        pause = (at(waiting["due_at"]) - datetime.now(UTC)).total_seconds() + 1.5
        await asyncio.sleep(max(pause, 0))
        started = datetime.now(UTC)
        live_system.start("notifications-worker")
        late = await eventually(lambda: quick_check(1), timeout=30)
        assert late["id"] == waiting["id"] and late["assignee"] == "lena"
        assert at(late["due_at"]) < started < at(late["escalated_at"])
        after_start = at(late["escalated_at"]) - started
        assert after_start < timedelta(seconds=10), after_start
    print(
        f"\nescalated {lateness.total_seconds() * 1000:.1f} ms after due_at; down at the deadline: escalated "
        f"{after_start.total_seconds():.2f} s after the worker was started"
    )
