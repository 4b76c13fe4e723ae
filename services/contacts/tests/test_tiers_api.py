"""Integration: tiers set by the rules or by hand, and the lifecycle and credit events."""

from datetime import UTC, date, datetime, timedelta

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope

pytestmark = pytest.mark.integration

DEFAULT_RULES = {
    "key_contract_months": 12,
    "key_order_volume": "100000",
    "key_potential": "1000000",
    "silver_order_volume": "10000",
    "gold_order_volume": "50000",
    "order_window_months": 12,
}


async def new_customer(services, **overrides) -> dict:
    body = {"name": "Vandelay Industries", "email": unique_email(), "phone": unique_phone()} | overrides
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def record(services, customer_id: str, details: dict, days_ago: int = 1) -> dict:
    occurred_at = (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()
    response = await services.contacts.post(
        f"/v1/customers/{customer_id}/activities", json={"occurred_at": occurred_at, "details": details}
    )
    assert response.status_code == 201, response.text
    return response.json()


def order(amount: str) -> dict:
    return {"kind": "order", "amount": amount, "currency": "EUR"}


async def events_of(services, customer_id: str, *types: str) -> list[Envelope]:
    """The customer's events of those types, in the order they were published."""
    records = await read_topic(services.stack.bootstrap, "crm.contacts")
    wanted = {t.encode() for t in types}
    return [
        Envelope.model_validate_json(r.value)
        for r in records
        if r.key == customer_id.encode() and dict(r.headers)["ce_type"] in wanted
    ]


async def tier_of(services, customer_id: str) -> str:
    return (await services.contacts.get(f"/v1/customers/{customer_id}")).json()["tier"]


async def test_continuous_contracts_and_orders_promote_to_key_and_publish_tier_changed_then_updated(services) -> None:
    customer = await new_customer(services)
    assert customer["tier"] == "bronze" and customer["tier_override_at"] is None
    today = date.today()
    first_start = today - timedelta(days=300)
    first_end = first_start + timedelta(days=213)  # about 7 months each, back to back, the second in force
    second_end = first_end + timedelta(days=214)
    await record(
        services, customer["id"], {"kind": "contract", "starts_on": str(first_start), "ends_on": str(first_end)}
    )
    await record(
        services,
        customer["id"],
        {"kind": "contract", "starts_on": str(first_end + timedelta(days=1)), "ends_on": str(second_end)},
    )
    assert await tier_of(services, customer["id"]) == "bronze"  # contracts alone are not enough
    await record(services, customer["id"], order("60000"), days_ago=200)
    assert await tier_of(services, customer["id"]) == "gold"
    await record(services, customer["id"], order("60000"), days_ago=20)
    assert await tier_of(services, customer["id"]) == "key"

    async def key_announced():
        events = await events_of(services, customer["id"], "crm.contact.tier_changed.v1", "crm.contact.updated.v1")
        # The first order also converts the lead (lifecycle rules): an update of its own, not a tier's.
        events = [e for e in events if e.type.endswith("tier_changed.v1") or "tier" in e.data["changed"]]
        return events if len(events) == 4 else None

    events = await eventually(key_announced)
    assert [(e.type.split(".")[2], e.data.get("current") or e.data["tier"]) for e in events] == [
        ("tier_changed", "gold"),
        ("updated", "gold"),
        ("tier_changed", "key"),
        ("updated", "key"),
    ]
    promoted = events[2].data
    assert (promoted["previous"], promoted["source"]) == ("gold", "rules")
    assert promoted["reason"].startswith("continuous contracts for 14 months and 120,000 ordered in 12 months")
    assert events[3].data["changed"] == ["tier"]
    [entry, *_] = (await services.contacts.get(f"/v1/customers/{customer['id']}/audit")).json()["items"]
    assert (entry["action"], entry["actor"], entry["changes"]["tier"]) == (
        "tier_changed",
        "rules",
        {"from": "gold", "to": "key"},
    )


async def test_an_override_holds_against_the_rules_until_it_is_deleted(services) -> None:
    customer = await new_customer(services)
    await record(services, customer["id"], order("60000"))
    url = f"/v1/customers/{customer['id']}/tier-override"
    held = await services.contacts.put(url, json={"tier": "silver", "reason": "payment disputes under review"})
    assert held.status_code == 200, held.text
    status = held.json()
    assert (status["tier"], status["overridden"], status["rules_tier"]) == ("silver", True, "gold")
    assert status["override_reason"] == "payment disputes under review"

    await record(services, customer["id"], order("70000"))  # 130,000 without contracts: gold by the rules
    assert await tier_of(services, customer["id"]) == "silver"
    tier = (await services.contacts.get(f"/v1/customers/{customer['id']}/tier")).json()
    assert (tier["tier"], tier["rules_tier"], tier["overridden"]) == ("silver", "gold", True)

    released = await services.contacts.delete(url)
    assert released.status_code == 200
    assert (released.json()["tier"], released.json()["overridden"]) == ("gold", False)

    async def changes():
        events = await events_of(services, customer["id"], "crm.contact.tier_changed.v1")
        return events if len(events) == 3 else None

    events = [e.data for e in await eventually(changes)]
    assert [(e["current"], e["source"]) for e in events] == [("gold", "rules"), ("silver", "manual"), ("gold", "rules")]
    assert events[1]["reason"] == "payment disputes under review"
    actions = [
        e["action"] for e in (await services.contacts.get(f"/v1/customers/{customer['id']}/audit")).json()["items"]
    ]
    assert actions[:3] == ["tier_changed", "tier_override_removed", "activity_recorded"]


async def test_patching_the_tier_needs_a_reason_and_then_counts_as_an_override(services) -> None:
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}"
    refused = await services.contacts.patch(url, json={"tier": "key"}, headers={"If-Match": '"1"'})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "tier_reason",
            "message": "required to change the tier by hand (it overrides the tier rules)",
            "code": "missing",
        }
    ]
    assert (await services.contacts.get(url)).json()["version"] == 1

    patched = await services.contacts.patch(
        url, json={"tier": "key", "tier_reason": "launch partner for 2026"}, headers={"If-Match": '"1"'}
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["tier"], patched.json()["tier_override_reason"]) == ("key", "launch partner for 2026")
    await record(services, customer["id"], order("100"))  # the rules say bronze; the override holds
    assert await tier_of(services, customer["id"]) == "key"
    [changed] = await eventually(lambda: events_of(services, customer["id"], "crm.contact.tier_changed.v1"))
    assert (changed.data["source"], changed.data["reason"], changed.data["previous"]) == (
        "manual",
        "launch partner for 2026",
        "bronze",
    )


async def test_a_rules_change_is_versioned_and_re_tiers_the_customers_it_affects(services) -> None:
    customer = await new_customer(services)
    held = await new_customer(services, tier="silver", tier_reason="regional distributor")
    await record(services, customer["id"], order("30000"))
    await record(services, held["id"], order("30000"))
    assert await tier_of(services, customer["id"]) == "silver"
    before = (await services.contacts.get("/v1/tier-rules")).json()
    try:
        changed = await services.contacts.put("/v1/tier-rules", json=DEFAULT_RULES | {"gold_order_volume": "25000"})
        assert changed.status_code == 200, changed.text
        change = changed.json()
        assert change["version"] == before["version"] + 1 and change["retiered"] >= 1
        assert change["created_by"] == "tests" and change["rules"]["gold_order_volume"] == "25000"
        assert (await services.contacts.get("/v1/tier-rules")).json()["version"] == change["version"]
        assert await tier_of(services, customer["id"]) == "gold"
        assert await tier_of(services, held["id"]) == "silver"  # an override holds against new rules too

        async def regraded():
            events = await events_of(services, customer["id"], "crm.contact.tier_changed.v1")
            return events if len(events) == 2 else None

        [silver, gold] = [e.data for e in await eventually(regraded)]
        assert (silver["current"], gold["current"], gold["source"]) == ("silver", "gold", "rules")
        assert gold["reason"] == "30,000 ordered in 12 months (gold from 25,000)"
        versions = (await services.contacts.get("/v1/tier-rules/versions", params={"limit": 1})).json()
        assert [v["version"] for v in versions["items"]] == [change["version"]]
    finally:
        restored = await services.contacts.put("/v1/tier-rules", json=DEFAULT_RULES)
        assert restored.status_code == 200
    assert await tier_of(services, customer["id"]) == "silver"

    invalid = await services.contacts.put("/v1/tier-rules", json=DEFAULT_RULES | {"gold_order_volume": "5000"})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "gold_order_volume"


async def test_only_admins_see_or_change_the_rules(services) -> None:
    from crm_shared.config import AuthSettings
    from crm_shared.http.auth import mint_token

    writer = {"Authorization": f"Bearer {mint_token(AuthSettings(), scopes=('contacts:read', 'contacts:write'))}"}
    assert (await services.contacts.get("/v1/tier-rules", headers=writer)).status_code == 403
    assert (await services.contacts.put("/v1/tier-rules", json=DEFAULT_RULES, headers=writer)).status_code == 403


async def test_the_strategic_flag_or_a_large_potential_makes_a_key_account(services) -> None:
    assert (await new_customer(services, potential="2500000"))["tier"] == "key"
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}"
    patched = await services.contacts.patch(url, json={"strategic": True}, headers={"If-Match": '"1"'})
    assert patched.status_code == 200, patched.text
    assert (patched.json()["tier"], patched.json()["strategic"], patched.json()["version"]) == ("key", True, 3)
    assert patched.headers["etag"] == '"3"'

    async def announced():
        events = await events_of(services, customer["id"], "crm.contact.updated.v1", "crm.contact.tier_changed.v1")
        return events if len(events) == 3 else None

    events = await eventually(announced)
    assert [e.type for e in events] == [
        "crm.contact.updated.v1",
        "crm.contact.tier_changed.v1",
        "crm.contact.updated.v1",
    ]
    assert events[0].data["changed"] == ["strategic"] and events[1].data["reason"] == "strategic account"


async def test_lifecycle_and_credit_changes_publish_their_own_events(services) -> None:
    customer = await new_customer(services)
    url = f"/v1/customers/{customer['id']}"
    patched = await services.contacts.patch(
        url,
        json={"lifecycle_stage": "at_risk", "credit_standing": "poor", "credit_reason": "3 invoices over 90 days"},
        headers={"If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    [lifecycle] = await eventually(lambda: events_of(services, customer["id"], "crm.contact.lifecycle_changed.v1"))
    assert (lifecycle.data["previous"], lifecycle.data["current"]) == ("customer", "at_risk")
    [credit] = await eventually(lambda: events_of(services, customer["id"], "crm.contact.credit_changed.v1"))
    assert (credit.data["previous"], credit.data["current"], credit.data["reason"]) == (
        "good",
        "poor",
        "3 invoices over 90 days",
    )
    await services.contacts.patch(url, json={"owner": "newman"}, headers={"If-Match": '"2"'})

    async def both_updates():
        return len(await events_of(services, customer["id"], "crm.contact.updated.v1")) == 2

    await eventually(both_updates)
    assert len(await events_of(services, customer["id"], "crm.contact.lifecycle_changed.v1")) == 1


async def test_the_workers_sweep_moves_a_tier_that_time_alone_changed(services) -> None:
    from contacts.tiers.sweeper import sweep_once

    customer = await new_customer(services)
    await record(services, customer["id"], order("60000"), days_ago=20)
    assert await tier_of(services, customer["id"]) == "gold"
    worker = services.workers["contacts"]
    next_year = datetime.now(UTC) + timedelta(days=400)  # the order has left the 12-month window

    assert await sweep_once(worker.sessions, worker.publisher, now=next_year) >= 1
    assert await tier_of(services, customer["id"]) == "bronze"
    assert await sweep_once(worker.sessions, worker.publisher, now=next_year) == 0  # nothing left to move

    async def announced():
        events = await events_of(services, customer["id"], "crm.contact.tier_changed.v1")
        return events if len(events) == 2 else None

    demoted = (await eventually(announced))[-1].data
    assert (demoted["previous"], demoted["current"], demoted["source"]) == ("gold", "bronze", "rules")
