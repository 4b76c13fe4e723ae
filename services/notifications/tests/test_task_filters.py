"""Integration: listing a customer's tasks by several statuses and by when they were closed."""

from datetime import UTC, datetime, timedelta

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def three_tasks(services) -> list[dict]:
    """A key account's high complaint makes three tasks at once (recovery, review, visit; a
    retention plan may follow when the score drops)."""
    body = {"name": "Tyrell", "email": unique_email(), "phone": unique_phone(), "tier": "key", "owner": "erin"}
    customer = (await services.contacts.post("/v1/customers", json=body)).json()
    complaint = {
        "customer_id": customer["id"],
        "type": "complaint",
        "category": "service.delivery",
        "severity": "high",
        "channel": "phone",
        "description": "Late again.",
    }
    assert (await services.feedback.post("/v1/feedback", json=complaint)).status_code == 201

    async def three():
        tasks = await listed(services, customer_id=customer["id"])
        return tasks[-3:] if len(tasks) >= 3 else None

    return await eventually(three)


async def listed(services, **params) -> list[dict]:
    response = await services.notifications.get("/v1/tasks", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_tasks_are_listed_by_several_statuses_and_by_when_they_were_closed(services) -> None:
    untouched, claimed, done = await three_tasks(services)
    customer_id = untouched["customer_id"]
    before_closing = datetime.now(UTC) - timedelta(hours=1)  # before any of these tasks closed
    assert (await services.notifications.post(f"/v1/tasks/{claimed['id']}/claim")).status_code == 200
    completed = await services.notifications.post(f"/v1/tasks/{done['id']}/complete", json={"outcome": "refunded"})
    assert completed.status_code == 200, completed.text

    in_progress = {
        t["id"]: t["status"] for t in await listed(services, customer_id=customer_id, status=["open", "claimed"])
    }
    assert (in_progress[untouched["id"]], in_progress[claimed["id"]]) == ("open", "claimed")
    assert done["id"] not in in_progress and set(in_progress.values()) == {"open", "claimed"}
    assert [t["id"] for t in await listed(services, customer_id=customer_id, status="claimed")] == [claimed["id"]]

    closed = await listed(services, customer_id=customer_id, closed_since=before_closing.isoformat())
    assert [(t["id"], t["status"], t["outcome"]) for t in closed] == [(done["id"], "done", "refunded")]
    dropped = await services.notifications.post(f"/v1/tasks/{untouched['id']}/cancel", json={"reason": "duplicate"})
    assert dropped.status_code == 200, dropped.text
    closed = await listed(services, customer_id=customer_id, closed_since=before_closing.isoformat())
    assert {t["id"]: (t["status"], t["outcome"]) for t in closed} == {
        done["id"]: ("done", "refunded"),
        untouched["id"]: ("cancelled", "duplicate"),
    }
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert await listed(services, customer_id=customer_id, closed_since=later) == []
