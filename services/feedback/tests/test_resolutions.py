"""Integration: resolving a complaint needs its cause, remedy and any compensation; the cause
taxonomy is admin-edited data; the cause Pareto and the recovery indicators read them."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_devstack.testing import complaint_move, envelopes, eventually, read_topic, unique_email, unique_phone
from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.integration


async def complaint(services, product: str, tier: str = "gold") -> str:
    body = {"name": "Pied Piper", "email": unique_email(), "phone": unique_phone(), "tier": tier}
    customer = (await services.contacts.post("/v1/customers", json=body)).json()
    response = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer["id"],
            "type": "complaint",
            "category": "service.delivery",
            "severity": "medium",
            "channel": "phone",
            "product": product,
            "description": "Delivered a week late.",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def move(services, fid: str, body: dict):
    return await services.feedback.post(f"/v1/feedback/{fid}/transitions", json=body)


async def test_a_complaint_resolved_without_a_cause_is_refused_naming_the_fields_and_nothing_changes(services) -> None:
    fid = await complaint(services, f"valve-{uuid.uuid4().hex[:8]}")
    assert (await move(services, fid, {"to": "in_progress"})).status_code == 201

    refused = await move(services, fid, {"to": "resolved", "reason": "fixed"})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in refused.json()["errors"]} == {"resolution.cause_code", "resolution.remedy"}
    only_remedy = await move(services, fid, {"to": "resolved", "resolution": {"remedy": "Re-delivered."}})
    assert [e["field"] for e in only_remedy.json()["errors"]] == ["resolution.cause_code"]
    unknown = await move(services, fid, complaint_move("resolved", cause_code="weather.bad"))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "unknown_cause"

    # Nothing changed: the case, its history, its clocks and what others heard.
    assert (await services.feedback.get(f"/v1/feedback/{fid}")).json()["status"] == "in_progress"
    history = (await services.feedback.get(f"/v1/feedback/{fid}/history")).json()["items"]
    assert [h["to_status"] for h in history] == ["in_progress"]
    sla = (await services.feedback.get(f"/v1/feedback/{fid}/sla")).json()["clocks"]
    assert {c["clock"]: c["status"] for c in sla}["resolution"] == "running"
    assert (await services.feedback.get(f"/v1/feedback/{fid}/resolution")).status_code == 404

    async def announced():
        events = envelopes(await read_topic(services.stack.bootstrap, "crm.feedback"))
        found = [
            e.data["current"]
            for e in events
            if e.type == "crm.feedback.status_changed.v1" and e.data["feedback_id"] == fid
        ]
        return found or None

    assert await eventually(announced) == ["in_progress"]  # the refused moves staged no event
    # A resolution goes only with resolving.
    assert (await move(services, fid, {"to": "resolved"} | {"resolution": None})).status_code == 422
    fresh = await complaint(services, f"valve-{uuid.uuid4().hex[:8]}")
    misplaced = await move(services, fresh, {"to": "acknowledged", "resolution": {"cause_code": "delivery.late"}})
    assert misplaced.status_code == 422 and misplaced.json()["errors"][0]["field"] == "resolution"
    assert (await services.feedback.get(f"/v1/feedback/{fresh}")).json()["status"] == "received"


async def test_a_compensation_is_approved_paid_and_measured_with_the_reopen_rate(services) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    product = f"pump-{uuid.uuid4().hex[:8]}"
    paid, reopened = await complaint(services, product), await complaint(services, product)
    compensation = {"amount": "150.00", "currency": "EUR"}
    resolved = await move(services, paid, complaint_move("resolved", compensation=compensation))
    assert resolved.status_code == 201, resolved.text

    resolution = (await services.feedback.get(f"/v1/feedback/{paid}/resolution")).json()
    assert (resolution["cause_code"], resolution["cause_label"]) == ("delivery.late", "Late delivery")
    assert resolution["compensation"]["approved"] is False and resolution["compensation"]["paid_on"] is None
    payment = f"/v1/feedback/{paid}/resolution/compensation/payment"
    today = datetime.now(UTC).date().isoformat()
    early = await services.feedback.post(payment, json={"paid_on": today})
    assert early.status_code == 409 and early.json()["type"].endswith("not-approved")

    agent = mint_token(AuthSettings(), subject="dinesh", scopes=("feedback:read", "feedback:write"), roles=("agent",))
    approval = f"/v1/feedback/{paid}/resolution/compensation/approval"
    forbidden = await services.feedback.post(approval, headers={"Authorization": f"Bearer {agent}"})
    assert forbidden.status_code == 403
    manager = mint_token(
        AuthSettings(), subject="monica", scopes=("feedback:read", "feedback:write"), roles=("service_manager",)
    )
    approved = await services.feedback.post(approval, headers={"Authorization": f"Bearer {manager}"})
    assert approved.status_code == 200 and approved.json()["compensation"]["approved_by"] == "monica"
    done = await services.feedback.post(payment, json={"paid_on": today})
    assert done.status_code == 200 and done.json()["compensation"]["paid_on"] == today

    async def announced():
        events = envelopes(await read_topic(services.stack.bootstrap, "crm.feedback"))
        found = [
            e.data
            for e in events
            if e.type == "crm.feedback.status_changed.v1" and e.data["feedback_id"] == paid and e.data["resolution"]
        ]
        return found or None

    [event] = await eventually(announced)
    assert event["resolution"]["cause_code"] == "delivery.late"
    assert event["resolution"]["compensation"] == {
        "amount": "150.00",
        "currency": "EUR",
        "approved": False,
        "paid_on": None,
    }

    for body in (complaint_move("resolved", cause_code="product.defect"), {"to": "in_progress"}):
        assert (await move(services, reopened, body)).status_code == 201
    report = await services.feedback.get("/v1/reports/service-recovery", params={"since": since, "group_by": "product"})
    assert report.status_code == 200, report.text
    [row] = [r for r in report.json()["rows"] if r["group"] == product]
    assert (row["resolved"], row["reopened"], row["reopen_rate"]) == (2, 1, 50.0)
    assert (row["compensated"], row["compensation_paid"], row["awaiting_payment"]) == (1, 1, 0)
    assert row["median_days_to_compensation"] == 0 and row["mean_days_to_compensation"] == 0


async def test_the_cause_pareto_ranks_causes_per_product_and_marks_the_vital_few(services) -> None:
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    product = f"drill-{uuid.uuid4().hex[:8]}"
    for cause in ("delivery.late",) * 4 + ("billing.error",):
        fid = await complaint(services, product)
        assert (await move(services, fid, complaint_move("resolved", cause_code=cause))).status_code == 201
    report = await services.feedback.get("/v1/reports/causes", params={"since": since, "by": "product"})
    assert report.status_code == 200, report.text
    [segment] = [s for s in report.json()["segments"] if s["segment"] == product]
    assert segment["complaints"] == 5
    assert [
        (c["cause_code"], c["complaints"], c["percent"], c["cumulative_percent"], c["vital_few"])
        for c in segment["causes"]
    ] == [("delivery.late", 4, 80.0, 80.0, True), ("billing.error", 1, 20.0, 100.0, False)]
    by_tier = (await services.feedback.get("/v1/reports/causes", params={"since": since, "by": "tier"})).json()
    assert any(s["segment"] == "gold" for s in by_tier["segments"])


async def test_admins_keep_the_cause_taxonomy_and_a_switched_off_cause_is_no_longer_accepted(services) -> None:
    code = f"packaging.c{uuid.uuid4().hex[:8]}"
    created = await services.feedback.put(f"/v1/cause-codes/{code}", json={"label": "Flimsy packaging"})
    assert created.status_code == 201, created.text
    agent = mint_token(AuthSettings(), subject="gilfoyle", scopes=("feedback:read", "feedback:write"))
    denied = await services.feedback.put(
        f"/v1/cause-codes/{code}", json={"label": "x"}, headers={"Authorization": f"Bearer {agent}"}
    )
    assert denied.status_code == 403
    listed = (await services.feedback.get("/v1/cause-codes")).json()["items"]
    assert {"delivery.late", code} <= {c["code"] for c in listed}

    fid = await complaint(services, "box-1")
    assert (await move(services, fid, complaint_move("resolved", cause_code=code))).status_code == 201
    assert (
        await services.feedback.put(f"/v1/cause-codes/{code}", json={"label": "Flimsy", "active": False})
    ).status_code == 200
    assert code not in {c["code"] for c in (await services.feedback.get("/v1/cause-codes")).json()["items"]}
    everything = await services.feedback.get("/v1/cause-codes", params={"include_inactive": "true"})
    assert code in {c["code"] for c in everything.json()["items"]}
    other = await complaint(services, "box-1")
    refused = await move(services, other, complaint_move("resolved", cause_code=code))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "resolution.cause_code"
    # The complaint resolved with it keeps its cause.
    assert (await services.feedback.get(f"/v1/feedback/{fid}/resolution")).json()["cause_label"] == "Flimsy"
