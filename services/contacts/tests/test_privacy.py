"""Integration: the access log of personal-data reads and a customer's data export from all four services."""

import httpx
import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.integration


def bearer(subject: str, *scopes: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AuthSettings(), subject=subject, scopes=scopes)}"}


async def new_customer(services) -> dict:
    body = {"name": "Soylent Corp", "email": unique_email(), "phone": unique_phone(), "tier": "gold", "owner": "thorn"}
    response = await services.contacts.post("/v1/customers", json=body, headers=bearer("writer", "contacts:write"))
    assert response.status_code == 201, response.text
    return response.json()


async def access_log(client: httpx.AsyncClient, **params: str) -> list[dict]:
    response = await client.get("/v1/access-log", params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_reads_of_personal_data_are_logged_with_who_which_route_and_customer(services) -> None:
    customer = await new_customer(services)
    reader = bearer("agent-ann", "contacts:read", "feedback:read", "tasks:read")
    assert (await services.contacts.get(f"/v1/customers/{customer['id']}", headers=reader)).status_code == 200
    listed = await services.contacts.get("/v1/customers", params={"email": customer["email"]}, headers=reader)
    assert [c["id"] for c in listed.json()["items"]] == [customer["id"]]
    assert (
        await services.feedback.get("/v1/feedback", params={"customer_id": customer["id"]}, headers=reader)
    ).status_code == 200

    entries = await access_log(services.contacts, customer_id=customer["id"])
    assert [(e["subject"], e["route"]) for e in entries] == [
        ("agent-ann", "GET /v1/customers"),
        ("agent-ann", "GET /v1/customers/{customer_id}"),
    ]
    # Who, which route, which customer, when: nothing of what was sent or answered; the write is no read.
    assert set(entries[0]) == {"at", "subject", "route", "customer_id"}
    assert all(e["subject"] != "writer" for e in entries)
    assert await access_log(services.contacts, subject="agent-ann", customer_id=customer["id"]) == entries
    # A list that returned nobody is logged without a customer (feedback had none for them yet).
    feedback_reads = await access_log(services.feedback, subject="agent-ann")
    assert feedback_reads[0]["route"] == "GET /v1/feedback" and feedback_reads[0]["customer_id"] is None

    forbidden = await services.contacts.get("/v1/access-log", headers=reader)
    assert forbidden.status_code == 403


async def test_reads_in_feedback_scoring_and_notifications_are_logged_by_customer(services) -> None:
    customer = await new_customer(services)
    cid = customer["id"]
    complaint = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": cid,
            "type": "complaint",
            "category": "service.delivery",
            "severity": "medium",
            "channel": "phone",
            "description": "The parcel came late.",
        },
    )
    assert complaint.status_code == 201, complaint.text
    fid = complaint.json()["id"]

    async def scored_and_tasked():
        view = (await services.contacts.get(f"/v1/customers/{cid}/360")).json()
        return view if view["scores"] and view["tasks"]["open"] else None

    await eventually(scored_and_tasked)
    reader = bearer("agent-bo", "feedback:read", "scores:read", "tasks:read")
    reads = {
        services.feedback: [f"/v1/feedback/{fid}", f"/v1/feedback/{fid}/notes", f"/v1/feedback/{fid}/history"],
        services.scoring: [f"/v1/scores/{cid}", f"/v1/scores/{cid}/history"],
        services.notifications: ["/v1/tasks?customer_id=" + cid],
    }
    for client, paths in reads.items():
        for path in paths:
            assert (await client.get(path, headers=reader)).status_code == 200, path
    assert [e["route"] for e in await access_log(services.feedback, customer_id=cid, subject="agent-bo")] == [
        "GET /v1/feedback/{feedback_id}/history",
        "GET /v1/feedback/{feedback_id}/notes",
        "GET /v1/feedback/{feedback_id}",
    ]
    assert [e["route"] for e in await access_log(services.scoring, customer_id=cid, subject="agent-bo")] == [
        "GET /v1/scores/{customer_id}/history",
        "GET /v1/scores/{customer_id}",
    ]
    assert [e["route"] for e in await access_log(services.notifications, customer_id=cid, subject="agent-bo")] == [
        "GET /v1/tasks"
    ]


async def test_the_export_holds_the_customers_data_from_all_four_services_and_is_access_logged(services) -> None:
    customer = await new_customer(services)
    cid = customer["id"]
    complaint = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": cid,
            "type": "complaint",
            "category": "product.quality",
            "severity": "high",
            "channel": "web",
            "description": "The crackers taste odd.",
        },
    )
    assert complaint.status_code == 201, complaint.text

    async def scored_and_tasked():
        view = (await services.contacts.get(f"/v1/customers/{cid}/360")).json()
        return view if view["scores"] and view["tasks"]["open"] else None

    await eventually(scored_and_tasked)
    officer = bearer("dpo", "contacts:export")
    response = await services.contacts.get(f"/v1/customers/{cid}/export", headers=officer)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["customer_id"] == cid
    parts = export["services"]
    assert set(parts) == {"contacts", "feedback", "scoring", "notifications"}
    assert [c["email"] for c in parts["contacts"]["tables"]["customers"]] == [customer["email"]]
    assert [f["description"] for f in parts["feedback"]["tables"]["feedback"]] == ["The crackers taste odd."]
    assert [s["customer_id"] for s in parts["scoring"]["tables"]["customer_scores"]] == [cid]
    assert {t["type"] for t in parts["notifications"]["tables"]["tasks"]} >= {"service_recovery"}
    for part in parts.values():
        assert part["tables"]["customer_projection" if part["service"] != "contacts" else "customers"]

    # The export is itself logged, in every service, under the officer's name.
    for client in (services.contacts, services.feedback, services.scoring, services.notifications):
        routes = [e["route"] for e in await access_log(client, customer_id=cid, subject="dpo")]
        assert routes == ["GET /v1/customers/{customer_id}/export"]
    # A token that may read contacts may not export.
    reader = bearer("agent-ann", "contacts:read")
    assert (await services.contacts.get(f"/v1/customers/{cid}/export", headers=reader)).status_code == 403
