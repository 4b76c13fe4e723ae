"""Integration: lifecycle stages moved by the rules (an order, silence, a lapsed contract), audited
and announced with the reason; a stage set by hand holds with its reason until the next order;
the rules are versioned data. The sweep's clock is a parameter, never a sleep."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.config import AuthSettings
from crm_shared.contracts import Envelope
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.integration


async def new_customer(services, **overrides) -> dict:
    body = {"name": "Kramerica", "email": unique_email(), "phone": unique_phone(), "owner": "lena"} | overrides
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def order(services, customer_id: str, days_ago: int = 0) -> None:
    occurred_at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    details = {"kind": "order", "amount": "100.00", "currency": "EUR"}
    response = await services.contacts.post(
        f"/v1/customers/{customer_id}/activities", json={"occurred_at": occurred_at, "details": details}
    )
    assert response.status_code == 201, response.text


async def stage_of(services, customer_id: str) -> str:
    return (await services.contacts.get(f"/v1/customers/{customer_id}")).json()["lifecycle_stage"]


async def lifecycle_events(services, customer_id: str) -> list[dict]:
    records = await read_topic(services.stack.bootstrap, "crm.contacts")
    events = [Envelope.model_validate_json(r.value) for r in records if r.key == customer_id.encode()]
    return [e.data for e in events if e.type == "crm.contact.lifecycle_changed.v1"]


async def sweep(services, customer_id: str, now: datetime) -> int:
    from contacts.tiers.sweeper import lifecycle_sweep_once

    worker = services.workers["contacts"]
    return await lifecycle_sweep_once(worker.sessions, worker.publisher, now=now, only=[uuid.UUID(customer_id)])


async def test_a_lead_becomes_a_customer_with_its_first_order_and_churns_after_a_silent_year(services) -> None:
    lead = await new_customer(services, lifecycle_stage="lead")
    await order(services, lead["id"], days_ago=2)
    assert await stage_of(services, lead["id"]) == "customer"

    assert await sweep(services, lead["id"], datetime.now(UTC) + timedelta(days=100)) == 0
    assert await sweep(services, lead["id"], datetime.now(UTC) + timedelta(days=400)) == 1
    assert await stage_of(services, lead["id"]) == "churned"

    async def both_announced():
        events = await lifecycle_events(services, lead["id"])
        return events if len(events) == 2 else None

    converted, churned = await eventually(both_announced)
    assert (converted["previous"], converted["current"], converted["source"]) == ("lead", "customer", "rules")
    assert converted["reason"] == "first order: converted from lead"
    assert (churned["current"], churned["source"]) == ("churned", "rules")
    assert churned["reason"].startswith("no order for 40") and churned["reason"].endswith("(rule: 365)")
    audit = (await services.contacts.get(f"/v1/customers/{lead['id']}/audit")).json()["items"]
    moves = [a for a in audit if a["action"] == "lifecycle_changed"]
    assert {m["actor"] for m in moves} == {"rules"} and len(moves) == 2

    await order(services, lead["id"])
    assert await stage_of(services, lead["id"]) == "won_back"


async def test_a_stage_set_by_hand_keeps_its_reason_and_holds_until_the_next_order(services) -> None:
    customer = await new_customer(services)
    await order(services, customer["id"], days_ago=30)
    patched = await services.contacts.patch(
        f"/v1/customers/{customer['id']}",
        json={"lifecycle_stage": "churned", "lifecycle_reason": "moved to a competitor"},
        headers={"If-Match": "*"},
    )
    assert patched.status_code == 200, patched.text
    assert await sweep(services, customer["id"], datetime.now(UTC) + timedelta(days=30)) == 0

    async def announced():
        events = await lifecycle_events(services, customer["id"])
        return events[-1] if events else None

    manual = await eventually(announced)
    assert (manual["current"], manual["source"], manual["reason"]) == ("churned", "manual", "moved to a competitor")
    await order(services, customer["id"])  # a new fact: the rules decide again
    assert await stage_of(services, customer["id"]) == "won_back"


async def test_the_rules_are_versioned_data_that_admins_change(services) -> None:
    current = (await services.contacts.get("/v1/lifecycle-rules")).json()
    assert current["rules"]["churn_after_days"] == 365
    silent = await new_customer(services)
    await order(services, silent["id"], days_ago=320)
    rules = {**current["rules"], "churn_after_days": 300}
    try:
        changed = await services.contacts.put("/v1/lifecycle-rules", json=rules)
        assert changed.status_code == 200, changed.text
        assert changed.json()["version"] == current["version"] + 1 and changed.json()["moved"] >= 1
        assert await stage_of(services, silent["id"]) == "churned"
        bad = await services.contacts.put("/v1/lifecycle-rules", json={**rules, "churn_after_days": 3})
        assert bad.status_code == 422
        agent = mint_token(AuthSettings(), subject="al", scopes=("contacts:read", "contacts:write"), roles=("agent",))
        async with httpx.AsyncClient(base_url=str(services.contacts.base_url)) as client:
            refused = await client.put("/v1/lifecycle-rules", json=rules, headers={"Authorization": f"Bearer {agent}"})
        assert refused.status_code == 403
    finally:
        restored = await services.contacts.put("/v1/lifecycle-rules", json=current["rules"])
        assert restored.status_code == 200


async def test_a_customer_still_on_poor_credit_at_the_deadline_is_phased_out(services) -> None:
    customer = await new_customer(services)
    await order(services, customer["id"], days_ago=5)
    patched = await services.contacts.patch(
        f"/v1/customers/{customer['id']}",
        json={"credit_standing": "poor", "credit_reason": "invoices 90 days overdue"},
        headers={"If-Match": "*"},
    )
    assert patched.status_code == 200, patched.text
    assert await sweep(services, customer["id"], datetime.now(UTC) + timedelta(days=20)) == 0  # still time
    assert await sweep(services, customer["id"], datetime.now(UTC) + timedelta(days=31)) == 1
    assert await stage_of(services, customer["id"]) == "churned"

    async def announced():
        events = await lifecycle_events(services, customer["id"])
        return events[-1] if events else None

    phased_out = await eventually(announced)
    assert (phased_out["current"], phased_out["source"], phased_out["credit"]) == ("churned", "rules", "poor")
    assert phased_out["reason"].startswith("phased out: credit still poor 3")


async def test_a_customer_reinstated_before_the_deadline_stays(services) -> None:
    customer = await new_customer(services)
    for body in (
        {"credit_standing": "poor", "credit_reason": "invoices overdue"},
        {"credit_standing": "good", "credit_reason": None},
    ):
        patched = await services.contacts.patch(f"/v1/customers/{customer['id']}", json=body, headers={"If-Match": "*"})
        assert patched.status_code == 200, patched.text
    assert await sweep(services, customer["id"], datetime.now(UTC) + timedelta(days=60)) == 0
    assert await stage_of(services, customer["id"]) == "customer"
