"""Integration: feedback events rescore the customer, with history and explanation."""

import uuid

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, tier: str = "gold") -> dict:
    body = {"name": "Initech", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": "dave"}
    return (await services.contacts.post("/v1/customers", json=body)).json()


async def score_of(services, customer_id: str) -> dict | None:
    response = await services.scoring.get(f"/v1/scores/{customer_id}")
    return response.json() if response.status_code == 200 else None


async def test_a_new_customer_gets_the_baseline_score(services) -> None:
    customer = await new_customer(services)
    score = await eventually(lambda: score_of(services, customer["id"]))
    assert (score["satisfaction"], score["band"]) == (75.0, "healthy")


async def test_a_complaint_recalculates_the_score_explains_it_and_announces_the_change(services) -> None:
    customer = await new_customer(services)
    await eventually(lambda: score_of(services, customer["id"]))
    posted = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer["id"],
            "type": "complaint",
            "category": "product.quality",
            "severity": "high",
            "channel": "email",
            "description": "Broken on arrival.",
        },
    )
    assert posted.status_code == 201

    async def rescored():
        score = await score_of(services, customer["id"])
        return score if score and score["satisfaction"] < 75 else None

    score = await eventually(rescored)
    assert (score["satisfaction"], score["band"]) == (45.5, "at_risk")
    assert score["explanation"]["components"]["complaints"] == 1
    assert "complaint penalty 29.5" in score["explanation"]["summary"]

    history = (await services.scoring.get(f"/v1/scores/{customer['id']}/history")).json()["items"]
    latest = history[0]
    assert (latest["previous_band"], latest["band"]) == ("healthy", "at_risk")
    assert latest["cause_event_type"] == "crm.feedback.received.v1"

    async def announced():
        records = await read_topic(services.stack.bootstrap, "crm.scores")
        from crm_shared.contracts import Envelope

        events = [Envelope.model_validate_json(r.value) for r in records if r.key == customer["id"].encode()]
        return [e for e in events if e.data["band_to"] == "at_risk"]

    [event] = await eventually(announced)
    assert event.data["band_from"] == "healthy"
    assert event.data["cause_event_id"] == latest["cause_event_id"]
    assert event.correlationid == posted.headers["x-correlation-id"]


async def test_an_unknown_customer_has_no_score(services) -> None:
    response = await services.scoring.get(f"/v1/scores/{uuid.uuid4()}")
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
