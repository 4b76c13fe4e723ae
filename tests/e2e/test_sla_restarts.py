"""SLA breaches survive the feedback worker's restarts: every deadline lives in the database.

(a) the worker is SIGKILLed and restarted before the deadline: the breach still fires within a
second of it; (b) the worker is down at the deadline: the breach fires at once on start-up.
Times are the ones the system records (`due_at`, `breached_at`), not the test's own timing.
"""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from crm_devstack.testing import envelopes, read_topic, unique_email, unique_phone
from feedback.sla.schemas import DEFAULT_TARGETS

pytestmark = pytest.mark.e2e

SEVERITIES = ("critical", "high", "medium", "low")


def first_response_in(seconds: int) -> dict:
    """Every severity and tier answers within `seconds`; resolution stays an hour."""
    return {
        clock: {severity: dict.fromkeys(("key", "gold", "silver", "bronze"), target) for severity in SEVERITIES}
        for clock, target in (("first_response", seconds), ("resolution", 3600))
    }


async def complaint(contacts: httpx.AsyncClient, feedback: httpx.AsyncClient) -> dict:
    customer = await contacts.post(
        "/v1/customers", json={"name": "Umbrella", "email": unique_email(), "phone": unique_phone(), "tier": "key"}
    )
    assert customer.status_code == 201, customer.text
    created = await feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer.json()["id"],
            "type": "complaint",
            "severity": "critical",
            "channel": "phone",
            "description": "Line down since this morning.",
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


async def breached(feedback: httpx.AsyncClient, feedback_id: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        clocks = {c["clock"]: c for c in (await feedback.get(f"/v1/feedback/{feedback_id}/sla")).json()["clocks"]}
        if clocks["first_response"]["status"] == "breached":
            return clocks["first_response"]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no breach within {timeout}s")


async def announced(live_system, feedback_id: str) -> list[dict]:

    for _ in range(100):
        records = await read_topic(live_system.stack.bootstrap, "crm.feedback")
        events = envelopes(records)
        found = [
            e.data for e in events if e.type == "crm.feedback.sla_breached.v1" and e.data["feedback_id"] == feedback_id
        ]
        if found:
            return found
        await asyncio.sleep(0.1)
    return []


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_breaches_fire_on_time_across_worker_restarts(live_system, token) -> None:
    async with live_system.client("contacts", token) as contacts, live_system.client("feedback", token) as feedback:
        # (a) restarted before the deadline. The target leaves room for the worker's start-up.
        assert (await feedback.put("/v1/sla-policy", json=first_response_in(6))).status_code == 200
        try:
            first = await complaint(contacts, feedback)
            live_system.restart("feedback-worker")  # SIGKILL, then a fresh process
            clock = await breached(feedback, first["id"])
            # (b) down at the deadline: stopped, deadline passes, started 2 s later.
            assert (await feedback.put("/v1/sla-policy", json=first_response_in(1))).status_code == 200
            live_system.stop("feedback-worker")
            second = await complaint(contacts, feedback)
            await asyncio.sleep(3)
            started = datetime.now(UTC)
            live_system.start("feedback-worker")
            late = await breached(feedback, second["id"])
        finally:
            restored = await feedback.put("/v1/sla-policy", json=DEFAULT_TARGETS.model_dump(mode="json"))
            assert restored.status_code == 200
        [event_a] = await announced(live_system, first["id"])
        [event_b] = await announced(live_system, second["id"])

    lateness = at(clock["breached_at"]) - at(clock["due_at"])
    assert timedelta(0) <= lateness < timedelta(seconds=1), lateness
    assert event_a["breached_at"] and at(event_a["breached_at"]) == at(clock["breached_at"])
    # It was down at the deadline: fired only after the start, and at once (the process start-up
    # itself is most of this), not after a poll interval.
    assert at(late["due_at"]) < started < at(late["breached_at"])
    after_start = at(late["breached_at"]) - started
    assert after_start < timedelta(seconds=10), after_start
    assert at(event_b["breached_at"]) == at(late["breached_at"])
    print(
        f"\nrestart before deadline: breached {lateness.total_seconds() * 1000:.1f} ms after due_at; "
        f"down at deadline: breached {after_start.total_seconds():.2f} s after the worker was started"
    )
