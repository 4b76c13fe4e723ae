"""Integration: live updates through the console server: a complaint becomes a `case`, a `task` and a
`score` event on the three streams, each carrying what the matching read endpoint returns."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from crm_devstack.sse import open_stream
from crm_devstack.stack import database_name
from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def dev_token(console, subject: str, role: str) -> str:
    answer = await console.post("/auth/dev/token", json={"subject": subject, "role": role})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


async def new_scored_customer(services, owner: str) -> str:
    body = {"name": "Live Ltd", "email": unique_email(), "phone": unique_phone(), "tier": "gold", "owner": owner}
    customer = (await services.contacts.post("/v1/customers", json=body)).json()

    async def scored():
        return (await services.scoring.get(f"/v1/scores/{customer['id']}")).status_code == 200

    await eventually(scored, timeout=60)  # behind whatever the other tests left in the pipeline
    return customer["id"]


async def test_a_complaint_reaches_the_case_task_and_score_streams(services, console) -> None:
    customer_id = await new_scored_customer(services, owner="erin")
    other_id = await new_scored_customer(services, owner="erin")
    token = await dev_token(console, "maya", "service_manager")
    query = f"?customer_id={customer_id}"
    async with (
        open_stream(console, f"/api/feedback/v1/live{query}", token) as cases,
        open_stream(console, f"/api/notifications/v1/live{query}", token) as tasks,
        open_stream(console, "/api/notifications/v1/live?assignee=erin", token) as erins_tasks,
        open_stream(console, f"/api/scoring/v1/live{query}", token) as scores,
        open_stream(console, f"/api/notifications/v1/live?customer_id={other_id}", token) as others,
    ):
        assert cases.status == tasks.status == scores.status == others.status == 200
        start = asyncio.get_running_loop().time()
        complaint = {
            "customer_id": customer_id,
            "type": "complaint",
            "category": "service.delivery",
            "severity": "high",
            "channel": "phone",
            "description": "Late again.",
        }
        posted = await services.feedback.post("/v1/feedback", json=complaint)
        assert posted.status_code == 201, posted.text
        feedback = posted.json()

        case = await cases.wait_for(lambda e: e.name == "case" and e.data["id"] == feedback["id"])
        task = await tasks.wait_for(lambda e: e.name == "task" and e.data["type"] == "service_recovery")
        score = await scores.wait_for(
            lambda e: any(c["type"] == "crm.feedback.received.v1" for c in e.data["recent_causes"])
        )
        print(
            f"\ncomplaint -> live event latency: case {1000 * (case.at - start):.0f} ms, "
            f"task {1000 * (task.at - start):.0f} ms, score {1000 * (score.at - start):.0f} ms"
        )
        # Each event is what the read endpoint returns, with a unique id.
        read = (await services.feedback.get(f"/v1/feedback/{feedback['id']}")).json()
        assert set(case.data) == set(read)  # the same shape; later changes may have moved its case on
        assert [case.data[k] for k in ("id", "type", "customer_id", "received_at")] == [
            read[k] for k in ("id", "type", "customer_id", "received_at")
        ]
        read = (await services.notifications.get(f"/v1/tasks/{task.data['id']}")).json()
        assert set(task.data) == set(read)
        assert task.data["customer_id"] == customer_id and task.data["assignee"] == "erin"
        assert [task.data[k] for k in ("id", "type", "due_at")] == [read[k] for k in ("id", "type", "due_at")]
        assert score.data["customer_id"] == customer_id and "explanation" in score.data
        assert len({e.id for e in [*cases.events, *tasks.events, *scores.events]}) == len(
            [*cases.events, *tasks.events, *scores.events]
        )
        # A case moved on through the proxy arrives as a `case` event with its new status.
        bearer = {"Authorization": f"Bearer {token}"}
        moved = await console.post(
            f"/api/feedback/v1/feedback/{feedback['id']}/transitions", json={"to": "acknowledged"}, headers=bearer
        )
        assert moved.status_code == 201, moved.text
        await cases.wait_for(lambda e: e.data["id"] == feedback["id"] and e.data["status"] == "acknowledged")
        # Filters: by assignee it arrives too; another customer's stream stays quiet about it.
        await erins_tasks.wait_for(lambda e: e.name == "task" and e.data["id"] == task.data["id"])
        assert all(e.data["customer_id"] == other_id for e in others.events)
        assert all(e.data["customer_id"] == customer_id for e in [*cases.events, *tasks.events, *scores.events])


async def test_a_stream_needs_the_read_scope_of_its_records(console) -> None:
    partner = await dev_token(console, "sam", "partner")  # feedback, not tasks or scores
    async with open_stream(console, "/api/notifications/v1/live", partner) as tasks:
        assert tasks.status == 403
    async with open_stream(console, "/api/scoring/v1/live", partner) as scores:
        assert scores.status == 403
    async with open_stream(console, "/api/notifications/v1/live", "not-a-token") as anonymous:
        assert anonymous.status == 401


async def test_a_stream_outlives_a_lost_listen_connection_and_says_to_re_read(services, console) -> None:
    customer_id = await new_scored_customer(services, owner="farid")
    token = await dev_token(console, "noah", "service_manager")
    async with open_stream(console, f"/api/notifications/v1/live?customer_id={customer_id}", token) as tasks:
        # PostgreSQL drops the api's LISTEN connection (a failover, a restart, an admin's kill).
        admin = await asyncpg.connect(services.stack.postgres.dsn(database_name("notifications")))
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%crm_live_tasks%' AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        assert killed >= 1
        await tasks.wait_for(lambda e: e.name == "resync")  # changes meanwhile may be missed: re-read

        complaint = {"customer_id": customer_id, "type": "complaint", "category": "service.delivery"}
        complaint |= {"severity": "low", "channel": "email", "description": "Still waiting."}
        assert (await services.feedback.post("/v1/feedback", json=complaint)).status_code == 201
        task = await tasks.wait_for(lambda e: e.name == "task")
        assert task.data["customer_id"] == customer_id and task.data["assignee"] == "farid"
