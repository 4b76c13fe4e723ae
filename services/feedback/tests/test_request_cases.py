"""Integration: inquiries, technical support and suggestions are cases (lifecycle, SLA, events,
report line) on the real PostgreSQL and broker."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_devstack.testing import envelopes, eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, tier: str = "key") -> dict:
    body = {"name": "Hooli", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": "gavin"}
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def new_request(services, customer_id: str, kind: str, product: str, **extra) -> dict:
    body = {
        "customer_id": customer_id,
        "type": kind,
        "channel": "phone",
        "product": product,
        "description": f"A {kind} about {product}.",
    } | extra
    response = await services.feedback.post("/v1/feedback", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def move(services, feedback_id: str, to: str):
    return await services.feedback.post(f"/v1/feedback/{feedback_id}/transitions", json={"to": to})


async def clocks(services, feedback_id: str) -> dict[str, dict]:
    sla = await services.feedback.get(f"/v1/feedback/{feedback_id}/sla")
    assert sla.status_code == 200, sla.text
    return {c["clock"]: c for c in sla.json()["clocks"]}


async def test_an_inquiry_is_a_case_answered_within_its_sla_and_counted_in_the_requests_report(services) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    product = f"router-{uuid.uuid4().hex[:8]}"
    customer = await new_customer(services, tier="key")
    inquiry = await new_request(services, customer["id"], "inquiry", product, category="purchase.information")
    assert inquiry["status"] == "received"
    fid = inquiry["id"]

    history = (await services.feedback.get(f"/v1/feedback/{fid}/history")).json()
    assert history["type"] == "inquiry" and history["allowed_next"] == ["in_progress", "answered"]
    # The built-in inquiry targets for a key account: first answer within the hour, done within 8 hours.
    before = await clocks(services, fid)
    assert before["first_response"]["target_seconds"] == 3600 and before["resolution"]["target_seconds"] == 8 * 3600

    refused = await move(services, fid, "resolved")
    assert refused.status_code == 409 and refused.json()["allowed_next"] == ["in_progress", "answered"]
    answered = await move(services, fid, "answered")
    assert answered.status_code == 201, answered.text
    assert answered.json()["allowed_next"] == ["closed", "in_progress"]
    after = await clocks(services, fid)
    assert after["first_response"]["status"] == "met" and after["resolution"]["status"] == "met"

    async def announced():
        events = envelopes(await read_topic(services.stack.bootstrap, "crm.feedback"))
        found = [e.data for e in events if e.type == "crm.feedback.status_changed.v1" and e.data["feedback_id"] == fid]
        return found or None

    [event] = await eventually(announced)
    assert (event["type"], event["previous"], event["current"]) == ("inquiry", "received", "answered")

    other = await new_request(services, customer["id"], "inquiry", product)
    report = await services.feedback.get("/v1/reports/requests", params={"since": since, "group_by": "product"})
    assert report.status_code == 200, report.text
    rows = [r for r in report.json()["rows"] if r["group"] == product]
    assert rows == [{"type": "inquiry", "group": product, "received": 2, "done": 1, "open": 1, "sla_breached": 0}]
    assert other["status"] == "received"


async def test_technical_support_is_scheduled_then_resolved_with_targets_per_type_and_tier(services) -> None:
    current = (await services.feedback.get("/v1/sla-policy")).json()["targets"]
    targets = current | {"by_type": current["by_type"]}
    targets["by_type"]["technical_support"]["first_response"]["silver"] = 5400
    put = await services.feedback.put("/v1/sla-policy", json=targets)
    assert put.status_code == 200, put.text

    customer = await new_customer(services, tier="silver")
    product = f"lathe-{uuid.uuid4().hex[:8]}"
    support = await new_request(services, customer["id"], "technical_support", product, category="product.function")
    fid = support["id"]
    assert (await clocks(services, fid))["first_response"]["target_seconds"] == 5400
    for to in ("scheduled", "in_progress", "resolved"):
        moved = await move(services, fid, to)
        assert moved.status_code == 201, moved.text
    # A technical-support case is resolved without a complaint's cause and remedy...
    assert (await services.feedback.get(f"/v1/feedback/{fid}")).json()["status"] == "resolved"
    assert (await clocks(services, fid))["resolution"]["status"] == "met"
    # ... and a follow-up call that finds the fault back reopens it.
    reopened = await move(services, fid, "in_progress")
    assert reopened.status_code == 201 and reopened.json()["reopened"] is True


async def test_a_suggestion_is_reviewed_then_accepted_or_declined_and_praise_is_still_no_case(services) -> None:
    customer = await new_customer(services, tier="gold")
    product = f"app-{uuid.uuid4().hex[:8]}"
    suggestion = await new_request(services, customer["id"], "suggestion", product, category="product.features")
    fid = suggestion["id"]
    assert (await move(services, fid, "answered")).status_code == 409
    for to in ("under_review", "accepted", "delivered"):
        moved = await move(services, fid, to)
        assert moved.status_code == 201, moved.text
    history = (await services.feedback.get(f"/v1/feedback/{fid}/history")).json()
    assert history["status"] == "delivered" and history["allowed_next"] == []

    praise = await new_request(services, customer["id"], "praise", product)
    assert praise["status"] == "recorded"
    assert (await move(services, praise["id"], "answered")).json()["type"].endswith("not-a-case")
