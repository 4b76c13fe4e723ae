"""Integration: playbooks, teams and the task lifecycle through the API, escalation by the
worker's timer, and the causation guard, against the real PostgreSQL and broker.

Custom playbooks here trigger only on `purchase.*` complaints (no other test files those) and
are deleted at the end of each test.
"""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from crm_devstack.testing import envelopes, eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.integration


async def new_customer(services, tier: str = "silver", owner: str | None = "erin") -> dict:
    body = {"name": "Initech", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": owner}
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def complain(services, customer_id: str, category: str, severity: str = "low") -> dict:
    response = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer_id,
            "type": "complaint",
            "category": category,
            "severity": severity,
            "channel": "web",
            "description": "Slow answer.",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


async def tasks_of(services, customer_id: str, **params) -> list[dict]:
    response = await services.notifications.get("/v1/tasks", params={"customer_id": customer_id, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def playbook(category: str, *, title: str = "Look into the {severity} {category} complaint", **action) -> dict:
    return {
        "description": "test",
        "trigger": {
            "event": "crm.feedback.received.v1",
            "conditions": [{"on": "type", "any_of": ["complaint"]}, {"on": "category", "prefix": category}],
        },
        "actions": [
            {"kind": "create_task", "task_type": "purchase_check", "title": title, "due": {"hours": 2}} | action
        ],
    }


async def put_playbook(services, key: str, body: dict) -> dict:
    response = await services.notifications.put(f"/v1/playbooks/{key}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_playbooks_are_versioned_validated_and_deletable(services) -> None:
    key = f"test-{uuid.uuid4().hex[:8]}"
    listed = (await services.notifications.get("/v1/playbooks")).json()["items"]
    defaults = {p["key"]: p for p in listed if p["builtin"]}
    assert {"service_recovery", "key_account_complaint", "band_drop_at_risk", "satisfaction_follow_up"} <= set(defaults)
    assert defaults["service_recovery"]["version"] == 0

    first = await put_playbook(services, key, playbook("purchase.courtesy"))
    second = await put_playbook(services, key, playbook("purchase.courtesy") | {"enabled": False})
    assert (first["version"], second["version"], second["enabled"]) == (1, 2, False)
    assert first["created_by"] == "tests" and not first["builtin"]

    bad = playbook("purchase.courtesy", title="About {band_to}")
    refused = await services.notifications.put(f"/v1/playbooks/{key}", json=bad)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert "band_to" in refused.text
    assert (await services.notifications.get(f"/v1/playbooks/{key}")).json()["version"] == 2  # nothing changed

    assert (await services.notifications.delete(f"/v1/playbooks/{key}")).status_code == 204
    assert (await services.notifications.get(f"/v1/playbooks/{key}")).status_code == 404
    history = (await services.notifications.get(f"/v1/playbooks/{key}/versions")).json()["items"]
    assert [(v["version"], v["deleted"]) for v in history] == [(1, False), (2, False), (3, True)]
    assert history[0]["definition"]["trigger"]["conditions"][1] == {"on": "category", "prefix": "purchase.courtesy"}


async def test_changing_playbooks_needs_the_admin_scope(services) -> None:
    from crm_shared.config import AuthSettings
    from crm_shared.http.auth import mint_token

    reader = mint_token(AuthSettings(), subject="reader", scopes=("tasks:read", "tasks:write"))
    headers = {"Authorization": f"Bearer {reader}"}
    assert (await services.notifications.get("/v1/playbooks", headers=headers)).status_code == 200
    body = playbook("purchase.courtesy")
    assert (await services.notifications.put("/v1/playbooks/x", json=body, headers=headers)).status_code == 403
    assert (await services.notifications.put("/v1/teams/x", json={}, headers=headers)).status_code == 403


async def test_team_tasks_go_round_robin_and_a_disabled_playbook_makes_none(services) -> None:
    team, key = f"care-{uuid.uuid4().hex[:6]}", f"test-rr-{uuid.uuid4().hex[:6]}"
    put = await services.notifications.put(f"/v1/teams/{team}", json={"members": ["ann", "ben"], "lead": "lee"})
    assert put.status_code == 200, put.text
    await put_playbook(services, key, playbook("purchase.courtesy", assign_to=f"team:{team}", priority="high"))
    try:
        customer = await new_customer(services)
        for _ in range(3):
            await complain(services, customer["id"], "purchase.courtesy")

        async def three():
            tasks = [t for t in await tasks_of(services, customer["id"]) if t["playbook"] == key]
            return tasks if len(tasks) == 3 else None

        tasks = sorted(await eventually(three), key=lambda t: t["created_at"])
        assert [t["assignee"] for t in tasks] == ["ann", "ben", "ann"]
        assert {t["team"] for t in tasks} == {team} and {t["priority"] for t in tasks} == {"high"}
        assert tasks[0]["title"] == "Look into the low purchase.courtesy complaint"

        await put_playbook(services, key, playbook("purchase.courtesy") | {"enabled": False})
        await complain(services, customer["id"], "purchase.courtesy")

        async def recovery_tasks():
            found = [t for t in await tasks_of(services, customer["id"]) if t["type"] == "service_recovery"]
            return found if len(found) == 4 else None

        await eventually(recovery_tasks)  # the fourth complaint was handled ...
        assert len([t for t in await tasks_of(services, customer["id"]) if t["playbook"] == key]) == 3  # ... no task
    finally:
        await services.notifications.delete(f"/v1/playbooks/{key}")


async def test_claim_complete_cancel_follow_the_lifecycle_and_are_published(services) -> None:
    customer = await new_customer(services)
    await complain(services, customer["id"], "service.delivery", "medium")
    [task] = await eventually(lambda: tasks_of(services, customer["id"]))
    path = f"/v1/tasks/{task['id']}"

    key = {"Idempotency-Key": str(uuid.uuid4())}
    claimed = await services.notifications.post(f"{path}/claim", headers=key)
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["status"], claimed.json()["assignee"], claimed.json()["claimed_by"]) == (
        "claimed",
        "tests",
        "tests",
    )
    replayed = await services.notifications.post(f"{path}/claim", headers=key)
    assert replayed.status_code == 200 and replayed.headers["idempotent-replayed"] == "true"
    again = await services.notifications.post(f"{path}/claim")
    assert again.status_code == 409 and again.json()["current_status"] == "claimed"

    no_outcome = await services.notifications.post(f"{path}/complete", json={})
    assert no_outcome.status_code == 422
    done = await services.notifications.post(f"{path}/complete", json={"outcome": "refund agreed"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["outcome"], done.json()["next_escalation_at"]) == (
        "done",
        "refund agreed",
        None,
    )
    cancelled = await services.notifications.post(f"{path}/cancel", json={"reason": "too late"})
    assert cancelled.status_code == 409 and cancelled.json()["allowed_next"] == []
    assert (await services.notifications.post(f"/v1/tasks/{uuid.uuid4()}/claim")).status_code == 404

    async def published():
        events = envelopes(await read_topic(services.stack.bootstrap, "crm.outreach"))
        mine = [e.data for e in events if e.type == "crm.task.status_changed.v1" and e.data["task_id"] == task["id"]]
        return mine if len(mine) == 2 else None

    changes = await eventually(published)
    assert [(c["previous"], c["current"], c["outcome"]) for c in changes] == [
        ("open", "claimed", None),
        ("claimed", "done", "refund agreed"),
    ]

    listed = await tasks_of(services, customer["id"], status="done", assignee="tests")
    assert [t["id"] for t in listed] == [task["id"]]
    assert await tasks_of(services, customer["id"], overdue="true") == []
    due = datetime.fromisoformat(task["due_at"])
    before = (due + timedelta(seconds=1)).isoformat()
    assert [t["id"] for t in await tasks_of(services, customer["id"], due_before=before)] == [task["id"]]
    assert await tasks_of(services, customer["id"], due_after=before) == []


async def test_an_overdue_task_escalates_to_the_lead_then_the_manager_and_a_done_one_does_not(services) -> None:
    owner, team, key = f"olga-{uuid.uuid4().hex[:6]}", f"esc-{uuid.uuid4().hex[:6]}", f"test-esc-{uuid.uuid4().hex[:6]}"
    team_body = {"members": [owner], "lead": "lena", "manager": "mark", "escalate_after_minutes": 0.02}
    assert (await services.notifications.put(f"/v1/teams/{team}", json=team_body)).status_code == 200
    # Due 1.8 s after the complaint; the next level 1.2 s later.
    await put_playbook(services, key, playbook("purchase.time", due={"hours": 0.0005}))
    try:
        customer = await new_customer(services, owner=owner)
        await complain(services, customer["id"], "purchase.time")
        await complain(services, customer["id"], "purchase.time")

        async def both():
            tasks = [t for t in await tasks_of(services, customer["id"]) if t["playbook"] == key]
            return tasks if len(tasks) == 2 else None

        escalating, finished = await eventually(both)
        assert escalating["assignee"] == owner and escalating["next_escalation_at"] == escalating["due_at"]
        done = await services.notifications.post(f"/v1/tasks/{finished['id']}/complete", json={"outcome": "called"})
        assert done.status_code == 200, done.text

        async def at_manager():
            task = (await services.notifications.get(f"/v1/tasks/{escalating['id']}")).json()
            return task if task["escalation_level"] == 2 else None

        task = await eventually(at_manager)
        assert (task["assignee"], task["team"], task["next_escalation_at"]) == ("mark", team, None)

        events = envelopes(await read_topic(services.stack.bootstrap, "crm.outreach"))
        escalations = [e.data for e in events if e.type == "crm.task.escalated.v1" and e.data["task_id"] == task["id"]]
        assert [(e["level"], e["previous_assignee"], e["escalated_to"]) for e in escalations] == [
            (1, owner, "lena"),
            (2, "lena", "mark"),
        ]
        first = datetime.fromisoformat(escalations[0]["escalated_at"])
        assert first >= datetime.fromisoformat(task["due_at"])
        assert datetime.fromisoformat(escalations[1]["escalated_at"]) >= datetime.fromisoformat(
            task["due_at"]
        ) + timedelta(minutes=0.02)
        finished = (await services.notifications.get(f"/v1/tasks/{finished['id']}")).json()
        assert (finished["escalation_level"], finished["assignee"]) == (0, owner)
        assert not [e for e in events if e.type == "crm.task.escalated.v1" and e.data["task_id"] == finished["id"]]
    finally:
        await services.notifications.delete(f"/v1/playbooks/{key}")


async def test_an_event_caused_by_a_playbooks_task_does_not_trigger_that_playbook_again(services) -> None:
    """The causation chain: task.created (service_recovery) -> probe -> probe's child; neither
    probe makes a service-recovery task, while another playbook still reacts to both."""
    key = f"test-loop-{uuid.uuid4().hex[:6]}"
    await put_playbook(services, key, playbook("purchase.information"))
    try:
        customer = await new_customer(services)
        original = await complain(services, customer["id"], "purchase.information")

        async def made():
            tasks = await tasks_of(services, customer["id"])
            return tasks if len(tasks) == 2 else None

        await eventually(made)
        events = envelopes(await read_topic(services.stack.bootstrap, "crm.outreach"))
        [created] = [
            e
            for e in events
            if e.type == "crm.task.created.v1"
            and e.data["customer_id"] == customer["id"]
            and e.data["playbook"] == "service_recovery"
        ]
        [record] = [
            r
            for r in await read_topic(services.stack.bootstrap, "crm.feedback")
            if r.key == customer["id"].encode() and original["id"].encode() in r.value
        ]
        received = Envelope.model_validate_json(record.value)

        def caused_by(parent_id: uuid.UUID) -> tuple[Envelope, list[tuple[str, bytes]]]:
            event = received.model_copy(
                update={
                    "id": uuid.uuid4(),
                    "causationid": str(parent_id),
                    "data": received.data | {"feedback_id": str(uuid.uuid4())},
                }
            )
            replaced = {"ce_id": str(event.id).encode(), "causation_id": str(parent_id).encode()}
            return event, [(name, replaced.get(name, value)) for name, value in record.headers]

        probe, probe_headers = caused_by(created.id)
        child, child_headers = caused_by(probe.id)
        producer = AIOKafkaProducer(bootstrap_servers=services.stack.bootstrap, acks="all")
        await producer.start()
        try:
            for event, headers in ((probe, probe_headers), (child, child_headers)):
                await producer.send_and_wait(
                    "crm.feedback", event.model_dump_json().encode(), key=record.key, headers=headers
                )
        finally:
            await producer.stop()

        async def probes_handled():
            tasks = [t for t in await tasks_of(services, customer["id"]) if t["playbook"] == key]
            return tasks if len(tasks) == 3 else None

        await eventually(probes_handled)
        await asyncio.sleep(0.3)
        recovery = [t for t in await tasks_of(services, customer["id"]) if t["playbook"] == "service_recovery"]
        assert [t["cause_event_id"] for t in recovery] == [str(received.id)]
    finally:
        await services.notifications.delete(f"/v1/playbooks/{key}")


async def test_a_churned_customer_gets_a_win_back_task_for_its_owner(services) -> None:
    customer = await new_customer(services, owner="wendy")
    patched = await services.contacts.patch(
        f"/v1/customers/{customer['id']}", json={"lifecycle_stage": "churned"}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    [task] = await eventually(lambda: tasks_of(services, customer["id"]))
    assert (task["type"], task["playbook"], task["assignee"]) == ("win_back", "win_back", "wendy")
    assert task["cause_event_type"] == "crm.contact.lifecycle_changed.v1"


async def test_erasure_redacts_task_outcomes(services) -> None:
    customer = await new_customer(services)
    await complain(services, customer["id"], "service.delivery")
    [task] = await eventually(lambda: tasks_of(services, customer["id"]))
    outcome = {"outcome": "Spoke to Ms Initech at home, she wants a refund"}
    assert (await services.notifications.post(f"/v1/tasks/{task['id']}/complete", json=outcome)).status_code == 200
    erased = await services.contacts.post(f"/v1/customers/{customer['id']}/erasure", json={"reason": "GDPR art. 17"})
    assert erased.status_code in (200, 202), erased.text

    async def redacted():
        found = (await services.notifications.get(f"/v1/tasks/{task['id']}")).json()
        return found if found["outcome"] == "[erased]" else None

    found = await eventually(redacted)
    assert found["status"] == "done"
