"""Integration: the customer 360 view, whole and when other services are slow or down."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
import uvicorn

from contacts.config import Settings
from contacts.main import create_app
from crm_devstack.testing import eventually, free_port, unique_email, unique_phone
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.integration


async def new_customer(services) -> dict:
    body = {"name": "Oscorp", "email": unique_email(), "phone": unique_phone(), "tier": "gold", "owner": "norman"}
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_360_view_joins_profile_activities_feedback_scores_and_tasks(services) -> None:
    customer = await new_customer(services)
    await services.contacts.post(
        f"/v1/customers/{customer['id']}/activities",
        json={"occurred_at": "2026-10-01T09:00:00Z", "details": {"kind": "call", "direction": "inbound"}},
    )
    complaint = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer["id"],
            "type": "complaint",
            "category": "product.quality",
            "severity": "medium",
            "channel": "web",
            "description": "The glider wobbles.",
        },
    )
    assert complaint.status_code == 201

    async def whole():
        view = (await services.contacts.get(f"/v1/customers/{customer['id']}/360")).json()
        return view if view["scores"] and view["tasks"]["open"] else None

    view = await eventually(whole)
    assert view["complete"] is True and view["missing"] == []
    assert view["customer"]["id"] == customer["id"]
    assert [a["details"]["kind"] for a in view["recent_activities"]] == ["call"]
    assert [f["id"] for f in view["recent_feedback"]] == [complaint.json()["id"]]
    assert view["scores"]["customer_id"] == customer["id"]
    assert {t["type"] for t in view["tasks"]["open"]} >= {"service_recovery"}


async def test_the_360_view_shows_messages_running_sla_clocks_the_score_trend_and_the_relationship_summary(
    services,
) -> None:
    customer = await new_customer(services)
    today = datetime.now(UTC).date()
    base = f"/v1/customers/{customer['id']}/activities"
    recent = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    old = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    for occurred, amount in ((recent, "1200.50"), (recent, "300"), (old, "9999")):
        order = {"occurred_at": occurred, "details": {"kind": "order", "amount": amount, "currency": "EUR"}}
        assert (await services.contacts.post(base, json=order)).status_code == 201
    contracts = [
        (today - timedelta(days=300), today + timedelta(days=65)),  # in force: renews in 65 days
        (today - timedelta(days=100), today + timedelta(days=400)),  # in force, ends later
        (today - timedelta(days=800), today - timedelta(days=1)),  # ended yesterday
        (today + timedelta(days=66), today + timedelta(days=800)),  # signed renewal, not in force yet
    ]
    for starts_on, ends_on in contracts:
        details = {"kind": "contract", "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}
        response = await services.contacts.post(base, json={"occurred_at": recent, "details": details})
        assert response.status_code == 201, response.text
    complaint = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer["id"],
            "type": "complaint",
            "category": "service.delivery",
            "severity": "high",
            "channel": "phone",
            "description": "Late again.",
        },
    )
    assert complaint.status_code == 201, complaint.text

    async def projected():
        sent = await services.notifications.post(
            "/v1/messages", json={"customer_id": customer["id"], "channel": "email", "template": "win_back"}
        )
        return sent.json() if sent.status_code == 201 else None

    message = await eventually(projected)

    async def whole():
        view = (await services.contacts.get(f"/v1/customers/{customer['id']}/360")).json()
        # The contracts rescore the customer too (time-aware scoring): wait for the complaint's change.
        causes = {change["cause_event_type"] for change in view["score_trend"]}
        ready = "crm.feedback.received.v1" in causes and view["recent_messages"] and view["running_sla_clocks"]
        return view if ready else None

    view = await eventually(whole)
    assert view["complete"] is True
    assert [m["id"] for m in view["recent_messages"]] == [message["id"]]
    clocks = view["running_sla_clocks"]
    assert {(c["clock"], c["status"], c["feedback_id"]) for c in clocks} == {
        ("first_response", "running", complaint.json()["id"]),
        ("resolution", "running", complaint.json()["id"]),
    }
    summary = view["summary"]
    assert summary["customer_since"] == customer["created_at"][:10] and summary["tenure_days"] == 0
    assert float(summary["revenue_12_months"]) == 1500.5
    assert summary["contracts_in_force"] == 2
    assert summary["next_renewal"] == (today + timedelta(days=65)).isoformat()


async def test_the_360_view_keeps_a_task_while_it_is_worked_on_and_shows_how_it_ended(services) -> None:
    customer = await new_customer(services)
    complaint = {
        "customer_id": customer["id"],
        "type": "complaint",
        "category": "service.delivery",
        "severity": "medium",
        "channel": "phone",
        "description": "The parcel never came.",
    }
    assert (await services.feedback.post("/v1/feedback", json=complaint)).status_code == 201

    async def view():
        response = await services.contacts.get(f"/v1/customers/{customer['id']}/360")
        assert response.status_code == 200, response.text
        return response.json()

    async def an_open_task():
        return (await view())["tasks"]["open"]

    [task] = await eventually(an_open_task)
    assert (await services.notifications.post(f"/v1/tasks/{task['id']}/claim")).status_code == 200
    tasks = (await view())["tasks"]
    assert (tasks["open"], tasks["recently_closed"]) == ([], [])
    assert [(t["id"], t["status"]) for t in tasks["claimed"]] == [(task["id"], "claimed")]

    done = await services.notifications.post(f"/v1/tasks/{task['id']}/complete", json={"outcome": "re-sent, arrived"})
    assert done.status_code == 200, done.text
    tasks = (await view())["tasks"]
    assert (tasks["open"], tasks["claimed"]) == ([], [])
    assert [(t["id"], t["status"], t["outcome"]) for t in tasks["recently_closed"]] == [
        (task["id"], "done", "re-sent, arrived")
    ]


async def test_an_unknown_customer_is_a_404(services) -> None:
    response = await services.contacts.get(f"/v1/customers/{uuid.uuid4()}/360")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def _silent_server(connections: list) -> asyncio.Server:
    """Accepts connections and never answers: a service that hangs."""

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await reader.read()

    return await asyncio.start_server(hold, "127.0.0.1", 0)


@pytest_asyncio.fixture
async def degraded_contacts(services) -> AsyncIterator[httpx.AsyncClient]:
    """A second contacts api on the same database whose feedback hangs and scoring is down."""
    connections: list = []
    hanging = await _silent_server(connections)
    hanging_port = hanging.sockets[0].getsockname()[1]
    settings = Settings(
        port=free_port(),
        feedback_url=f"http://127.0.0.1:{hanging_port}",
        scoring_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        view_part_timeout_seconds=0.3,
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=settings.port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    token = mint_token(settings.auth)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{settings.port}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        for writer in connections:
            writer.close()
        hanging.close()


async def test_a_slow_or_down_service_gives_a_partial_view_that_says_what_is_missing(
    services, degraded_contacts
) -> None:
    customer = await new_customer(services)

    response = await degraded_contacts.get(f"/v1/customers/{customer['id']}/360")

    assert response.status_code == 200, response.text
    view = response.json()
    assert view["complete"] is False
    assert view["customer"]["id"] == customer["id"]
    assert view["recent_feedback"] is None and view["scores"] is None
    assert view["tasks"] == {"open": [], "claimed": [], "recently_closed": []}  # notifications answered: none yet
    reasons = {m["part"]: m["reason"] for m in view["missing"]}
    assert reasons == {
        "feedback": "timeout",
        "sla_clocks": "timeout",
        "scores": "unavailable",
        "score_trend": "unavailable",
    }
    assert view["recent_messages"] == []  # notifications answered: nothing sent yet
    assert view["summary"]["contracts_in_force"] == 0 and view["summary"]["next_renewal"] is None


async def test_parts_the_token_may_not_read_are_left_out_as_forbidden(services) -> None:
    customer = await new_customer(services)
    settings = Settings()
    reader = mint_token(settings.auth, subject="front-desk", scopes=("contacts:read",))

    response = await services.contacts.get(
        f"/v1/customers/{customer['id']}/360", headers={"Authorization": f"Bearer {reader}"}
    )

    assert response.status_code == 200
    view = response.json()
    assert {m["part"]: m["reason"] for m in view["missing"]} == {
        "feedback": "forbidden",
        "scores": "forbidden",
        "tasks": "forbidden",
        "messages": "forbidden",
        "sla_clocks": "forbidden",
        "score_trend": "forbidden",
    }
