"""End to end: customer management over time (docs/domain.md#customers-over-time).

A key account goes silent past its ordering rhythm: the daily run (on demand, with an `as_of`
standing in for the days that pass: an injectable clock, no sleeps) moves it to at_risk with the
reasons in words, and its owner gets a retention task; its contract nearing its end gives one
renewal task; a poor-credit customer who churns gets no win-back.
"""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.e2e


async def create_customer(services, owner: str, tier: str = "gold") -> dict:
    body = {"name": f"Drift {uuid.uuid4().hex[:6]}", "email": unique_email(), "phone": unique_phone()}
    response = await services.contacts.post("/v1/customers", json={**body, "tier": tier, "owner": owner})
    assert response.status_code == 201, response.text
    return response.json()


async def record(services, customer_id: str, occurred_at: datetime, details: dict) -> None:
    response = await services.contacts.post(
        f"/v1/customers/{customer_id}/activities",
        json={"occurred_at": occurred_at.isoformat(), "details": details},
    )
    assert response.status_code == 201, response.text


async def tasks_of(services, customer_id: str) -> list[dict]:
    response = await services.notifications.get("/v1/tasks", params={"customer_id": customer_id})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def tasks_by_type(services, customer_id: str, task_type: str) -> list[dict]:
    return [t for t in await tasks_of(services, customer_id) if t["type"] == task_type]


async def patch(services, customer_id: str, body: dict) -> None:
    response = await services.contacts.patch(f"/v1/customers/{customer_id}", json=body, headers={"If-Match": "*"})
    assert response.status_code == 200, response.text


async def test_a_silent_key_account_drifts_to_at_risk_and_its_owner_gets_retention_and_renewal_tasks(
    services,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    customer = await create_customer(services, owner="olga")
    cid = customer["id"]
    override = await services.contacts.put(
        f"/v1/customers/{cid}/tier-override", json={"tier": "key", "reason": "strategic partner"}
    )
    assert override.status_code == 200, override.text
    for days in (90, 60, 30):  # orders once a month
        order = {"kind": "order", "amount": "40000.00", "currency": "EUR"}
        await record(services, cid, now - timedelta(days=days), order)
    ends_on = (now + timedelta(days=40)).date()
    contract = {"kind": "contract", "starts_on": "2025-01-01", "ends_on": ends_on.isoformat()}
    await record(services, cid, now - timedelta(days=1), contract)

    async def scored():
        response = await services.scoring.get(f"/v1/scores/{cid}")
        if response.status_code != 200:
            return None
        score = response.json()
        components = score["explanation"]["components"]
        done = components["orders"] == 3 and components["contracts"] == 1 and score["value"] >= 80
        return score if done else None

    before = await eventually(scored)
    assert before["band"] == "healthy"

    # The contract ends within the key tier's 120 days: one renewal task, for the owner.
    [renewal] = await eventually(lambda: tasks_by_type(services, cid, "contract_renewal"))
    assert renewal["assignee"] == "olga" and ends_on.isoformat() in renewal["title"]

    # Sixty days of silence later (the run's as_of is the clock), the daily run moves it.
    run = await services.scoring.post(
        "/v1/daily-runs",
        json={"as_of": (now + timedelta(days=60)).isoformat(), "customer_ids": [cid]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert run.status_code == 202, run.text
    assert run.json()["kind"] == "daily"

    async def finished():
        state = (await services.scoring.get(f"/v1/rescore-runs/{run.json()['id']}")).json()
        return state if state["status"] == "done" else None

    assert (await eventually(finished))["changed"] == 1
    after = (await services.scoring.get(f"/v1/scores/{cid}")).json()
    assert after["band"] == "at_risk"
    assert any(
        reason.startswith("no order for 90 days, 3.0 times the usual") for reason in after["explanation"]["drift"]
    )
    [latest, *_] = (await services.scoring.get(f"/v1/scores/{cid}/history")).json()["items"]
    assert (latest["cause_event_type"], latest["previous_band"], latest["band"]) == (
        "crm.scoring.daily_run",
        "healthy",
        "at_risk",
    )

    [retention] = await eventually(lambda: tasks_by_type(services, cid, "retention_plan"))
    assert retention["assignee"] == "olga" and "to at_risk" in retention["title"]
    assert len(await tasks_by_type(services, cid, "contract_renewal")) == 1


async def test_a_poor_credit_customer_who_churns_gets_no_win_back(services) -> None:
    customer = await create_customer(services, owner="pia")
    cid = customer["id"]
    await patch(services, cid, {"credit_standing": "poor", "credit_reason": "invoices 90 days overdue"})
    [review] = await eventually(lambda: tasks_by_type(services, cid, "credit_review"))
    assert review["assignee"] == "pia" and "poor" in review["title"]

    await patch(services, cid, {"lifecycle_stage": "churned"})  # phased out: no win-back
    # Reinstated and won back, then lost again with good credit: that churn does get a win-back.
    await patch(services, cid, {"credit_standing": "good", "lifecycle_stage": "won_back"})
    await patch(services, cid, {"lifecycle_stage": "churned"})
    # A later event of the same customer (same partition): once its task exists, both churns were handled.
    await patch(services, cid, {"credit_standing": "watch", "credit_reason": "one late payment"})

    async def second_review():
        reviews = await tasks_by_type(services, cid, "credit_review")
        return reviews if len(reviews) == 2 else None

    await eventually(second_review)
    [win_back] = await tasks_by_type(services, cid, "win_back")
    assert win_back["assignee"] == "pia"


async def test_a_new_key_account_gets_a_leadership_visit_whose_findings_feed_satisfaction(services) -> None:
    customer = await create_customer(services, owner="kim")
    cid = customer["id"]
    override = await services.contacts.put(
        f"/v1/customers/{cid}/tier-override", json={"tier": "key", "reason": "national distributor"}
    )
    assert override.status_code == 200, override.text
    [visit] = await eventually(lambda: tasks_by_type(services, cid, "leadership_visit"))
    [review] = await tasks_by_type(services, cid, "key_status_review")
    assert (visit["assignee"], visit["playbook"]) == ("kim", "key_account_programme")
    assert "quality, service, sales policy and staff" in visit["title"] and "re-confirm key status" in review["title"]

    visited_at = datetime.now(UTC).replace(microsecond=0)
    findings = {
        "quality": {"rating": 2, "comment": "two batches out of tolerance"},
        "service": {"rating": 1, "comment": "call backs take days"},
        "sales_policy": {"rating": 3},
        "staff": {"rating": 2},
    }
    await record(services, cid, visited_at, {"kind": "visit", "visited_by": "ceo", "findings": findings})

    async def heard():
        response = await services.scoring.get(f"/v1/scores/{cid}")
        score = response.json() if response.status_code == 200 else None
        return score if score and score["satisfaction"] < 75 else None

    score = await eventually(heard)
    # mean rating 2 -> 0.25 on 0..1; one answer: 15 * 1/3 * (2 * 0.25 - 1) = -2.5
    assert score["satisfaction"] == 72.5

    async def next_visit_planned():
        visits = await tasks_by_type(services, cid, "leadership_visit")
        return visits if len(visits) == 2 else None

    planned = [t for t in await eventually(next_visit_planned) if t["playbook"] == "key_account_yearly_visit"]
    assert planned[0]["due_at"].startswith((visited_at + timedelta(days=365)).date().isoformat())

    # Entitlements are recorded on the card and published for an ERP to read.
    await patch(services, cid, {"entitlements": ["priority_supply", "free_delivery"]})

    async def published():
        records = await read_topic(services.stack.bootstrap, "crm.contacts")
        events = [Envelope.model_validate_json(r.value) for r in records if r.key == cid.encode()]
        updates = [e.data for e in events if e.type == "crm.contact.updated.v1" and "entitlements" in e.data["changed"]]
        return updates[-1] if updates else None

    card = await eventually(published)
    assert card["entitlements"] == ["priority_supply", "free_delivery"] and card["tier"] == "key"
