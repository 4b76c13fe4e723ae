"""Done-when of the closed loop, end to end over HTTP with every Procfile process separate:
a resolved complaint gets exactly one satisfaction follow-up task, and an unhappy answer to it
reopens the complaint."""

import asyncio
import uuid

import pytest

from crm_devstack.testing import complaint_move, envelopes, eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.e2e


async def test_resolved_complaint_gets_a_follow_up_and_an_unhappy_answer_reopens_it(live_system, token) -> None:
    async with (
        live_system.client("contacts", token) as contacts,
        live_system.client("feedback", token) as feedback,
        live_system.client("notifications", token) as notifications,
    ):
        customer = (
            await contacts.post(
                "/v1/customers",
                json={
                    "name": "Wayne Enterprises",
                    "email": unique_email(),
                    "phone": unique_phone(),
                    "tier": "gold",
                    "owner": "lucius",
                },
            )
        ).json()
        posted = await feedback.post(
            "/v1/feedback",
            json={
                "customer_id": customer["id"],
                "type": "complaint",
                "category": "service.problem_resolution",
                "severity": "high",
                "channel": "phone",
                "description": "Ticket closed without a fix.",
            },
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert posted.status_code == 201, posted.text
        complaint_id = posted.json()["id"]
        for to in ("acknowledged", "in_progress", "resolved"):
            moved = await feedback.post(f"/v1/feedback/{complaint_id}/transitions", json=complaint_move(to))
            assert moved.status_code == 201, moved.text

        async def follow_ups():
            items = (await notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()["items"]
            return [t for t in items if t["type"] == "satisfaction_follow_up"]

        [task] = await eventually(follow_ups, timeout=30)
        assert task["assignee"] == "lucius" and task["status"] == "open"
        assert "Wayne" not in task["title"]
        await asyncio.sleep(1.0)  # let any duplicate arrive before counting
        assert len(await follow_ups()) == 1

        answer = await feedback.post(
            "/v1/feedback",
            json={
                "customer_id": customer["id"],
                "type": "survey_response",
                "channel": "survey",
                "survey": {"metric": "csat", "score": 2},
                "related_feedback_id": complaint_id,
            },
        )
        assert answer.status_code == 201, answer.text

        async def reopened():
            history = (await feedback.get(f"/v1/feedback/{complaint_id}/history")).json()
            return history if history["status"] == "in_progress" else None

        history = await eventually(reopened, timeout=30)
        last = history["items"][-1]
        assert (last["from_status"], last["to_status"], last["reopened"]) == ("resolved", "in_progress", True)
        assert last["changed_by"] == "system" and last["reason"] == "unhappy follow-up answer (CSAT 2)"

        async def reopen_event():
            records = await read_topic(live_system.stack.bootstrap, "crm.feedback")
            events = envelopes(records)
            return [
                e
                for e in events
                if e.type == "crm.feedback.status_changed.v1"
                and e.data["feedback_id"] == complaint_id
                and e.data["reopened"]
            ]

        [event] = await eventually(reopen_event, timeout=30)
        assert event.data["current"] == "in_progress" and event.data["changed_by"] == "system"
