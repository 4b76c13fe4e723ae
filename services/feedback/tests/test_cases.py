"""Integration: complaint cases (lifecycle, history, events, notes) on the real PostgreSQL and broker."""

import asyncio
import uuid

import pytest

from crm_devstack.testing import complaint_move, envelopes, eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, **overrides) -> dict:
    body = {"name": "Initech", "email": unique_email(), "phone": unique_phone(), "tier": "gold", "owner": "lumbergh"}
    response = await services.contacts.post("/v1/customers", json=body | overrides)
    assert response.status_code == 201, response.text
    return response.json()


async def new_complaint(services, customer_id: str) -> dict:
    body = {
        "customer_id": customer_id,
        "type": "complaint",
        "category": "product.reliability",
        "severity": "high",
        "channel": "web",
        "description": "The printer jams on every job.",
    }
    response = await services.feedback.post("/v1/feedback", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def move(services, feedback_id: str, to: str, reason: str | None = None, **headers):
    body = complaint_move(to, reason)
    return await services.feedback.post(f"/v1/feedback/{feedback_id}/transitions", json=body, headers=headers)


async def status_events(services, feedback_id: str) -> list[dict]:
    records = await read_topic(services.stack.bootstrap, "crm.feedback")
    events = envelopes(records)
    return [
        e.data for e in events if e.type == "crm.feedback.status_changed.v1" and e.data["feedback_id"] == feedback_id
    ]


async def test_a_complaint_walks_its_lifecycle_with_history_and_events(services) -> None:
    customer = await new_customer(services)
    complaint = await new_complaint(services, customer["id"])
    fid = complaint["id"]
    for to in ("acknowledged", "in_progress", "resolved", "closed"):
        moved = await move(services, fid, to, reason=f"now {to}")
        assert moved.status_code == 201, moved.text
        assert moved.json()["to_status"] == to and moved.json()["changed_by"] == "tests"

    assert (await services.feedback.get(f"/v1/feedback/{fid}")).json()["status"] == "closed"
    history = (await services.feedback.get(f"/v1/feedback/{fid}/history")).json()
    assert history["status"] == "closed" and history["allowed_next"] == ["in_progress"]
    assert [(h["from_status"], h["to_status"]) for h in history["items"]] == [
        ("received", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert not any(h["reopened"] for h in history["items"])

    async def four_events():
        found = await status_events(services, fid)
        return found if len(found) == 4 else None

    events = await eventually(four_events)
    assert [(e["previous"], e["current"]) for e in events][-1] == ("resolved", "closed")
    assert all(e["customer_id"] == customer["id"] and e["customer"]["owner"] == "lumbergh" for e in events)
    assert events[0]["severity"] == "high" and events[0]["category"] == "product.reliability"


async def test_an_illegal_transition_is_409_naming_the_current_and_allowed_statuses(services) -> None:
    customer = await new_customer(services)
    fid = (await new_complaint(services, customer["id"]))["id"]
    refused = await move(services, fid, "closed")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["current_status"] == "received"
    assert problem["allowed_next"] == ["acknowledged", "in_progress", "resolved"]
    assert problem["type"].endswith("illegal-transition")
    assert (await services.feedback.get(f"/v1/feedback/{fid}")).json()["status"] == "received"
    assert (await services.feedback.get(f"/v1/feedback/{fid}/history")).json()["items"] == []


async def test_a_closed_complaint_reopens_to_in_progress(services) -> None:
    customer = await new_customer(services)
    fid = (await new_complaint(services, customer["id"]))["id"]
    for to in ("in_progress", "resolved", "closed"):
        assert (await move(services, fid, to)).status_code == 201
    reopened = await move(services, fid, "in_progress", reason="Jammed again after the repair")
    assert reopened.status_code == 201, reopened.text
    assert reopened.json()["reopened"] is True and reopened.json()["allowed_next"] == ["resolved"]

    async def reopen_event():
        return [e for e in await status_events(services, fid) if e["reopened"]]

    [event] = await eventually(reopen_event)
    assert (event["previous"], event["current"], event["reason"]) == (
        "closed",
        "in_progress",
        "Jammed again after the repair",
    )


async def test_transitions_are_idempotent_with_a_key(services) -> None:
    customer = await new_customer(services)
    fid = (await new_complaint(services, customer["id"]))["id"]
    key = {"Idempotency-Key": f"agent-{uuid.uuid4()}"}
    first = await move(services, fid, "acknowledged", **key)
    again = await move(services, fid, "acknowledged", **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
    assert len((await services.feedback.get(f"/v1/feedback/{fid}/history")).json()["items"]) == 1


async def test_notes_are_kept_in_order(services) -> None:
    customer = await new_customer(services)
    fid = (await new_complaint(services, customer["id"]))["id"]
    for text in ("Called the customer.", "Engineer booked for Tuesday."):
        added = await services.feedback.post(f"/v1/feedback/{fid}/notes", json={"text": text})
        assert added.status_code == 201, added.text
        assert added.json()["author"] == "tests"
    notes = (await services.feedback.get(f"/v1/feedback/{fid}/notes")).json()["items"]
    assert [n["text"] for n in notes] == ["Called the customer.", "Engineer booked for Tuesday."]
    assert (await services.feedback.post(f"/v1/feedback/{fid}/notes", json={"text": "  "})).status_code == 422
    assert (await services.feedback.get(f"/v1/feedback/{uuid.uuid4()}/notes")).status_code == 404


async def test_feedback_other_than_a_complaint_has_no_case(services) -> None:
    customer = await new_customer(services)
    praise = await services.feedback.post(
        "/v1/feedback",
        json={"customer_id": customer["id"], "type": "praise", "channel": "web", "description": "Great support!"},
    )
    assert praise.status_code == 201, praise.text
    refused = await move(services, praise.json()["id"], "acknowledged")
    assert refused.status_code == 409 and refused.json()["type"].endswith("not-a-case")
    assert (await services.feedback.get(f"/v1/feedback/{praise.json()['id']}/history")).status_code == 409
    assert (await move(services, str(uuid.uuid4()), "acknowledged")).status_code == 404


async def test_concurrent_transitions_from_the_same_status_do_not_both_win(services) -> None:
    customer = await new_customer(services)
    fid = (await new_complaint(services, customer["id"]))["id"]
    assert (await move(services, fid, "in_progress")).status_code == 201
    assert (await move(services, fid, "resolved")).status_code == 201
    # Two agents at once: one closes, one reopens. Both are legal from resolved, not one after the other.
    answers = await asyncio.gather(move(services, fid, "closed"), move(services, fid, "in_progress"))
    codes = sorted(a.status_code for a in answers)
    if codes == [201, 201]:
        # Legal in sequence only if the reopen came after the close (closed -> in_progress).
        history = (await services.feedback.get(f"/v1/feedback/{fid}/history")).json()["items"]
        assert [h["to_status"] for h in history[-2:]] == ["closed", "in_progress"]
        assert history[-1]["from_status"] == "closed"
    else:
        assert codes == [201, 409]
    # The real race: two agents acknowledging the same new complaint; exactly one wins.
    other = (await new_complaint(services, customer["id"]))["id"]
    answers = await asyncio.gather(*(move(services, other, "acknowledged") for _ in range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409]
    history = (await services.feedback.get(f"/v1/feedback/{other}/history")).json()["items"]
    assert len(history) == 1


async def test_erasure_blanks_notes_transition_reasons_and_the_remedy(services) -> None:
    customer = await new_customer(services)
    fid = (await new_complaint(services, customer["id"]))["id"]
    assert (await move(services, fid, "acknowledged", reason="Spoke to Mr Smith at home")).status_code == 201
    remedy = complaint_move("resolved", remedy="Refunded Mr Smith to his private account", cause_code="billing.error")
    assert (await services.feedback.post(f"/v1/feedback/{fid}/transitions", json=remedy)).status_code == 201
    assert (
        await services.feedback.post(f"/v1/feedback/{fid}/notes", json={"text": "Mr Smith, 555-0100"})
    ).status_code == 201
    erased = await services.contacts.post(f"/v1/customers/{customer['id']}/erasure", json={"reason": "DSR-1"})
    assert erased.status_code in (200, 202, 204), erased.text

    async def blanked():
        notes = (await services.feedback.get(f"/v1/feedback/{fid}/notes")).json()["items"]
        history = (await services.feedback.get(f"/v1/feedback/{fid}/history")).json()["items"]
        resolution = (await services.feedback.get(f"/v1/feedback/{fid}/resolution")).json()
        return (
            notes[0]["text"] == "[erased]" and history[0]["reason"] == "[erased]" and resolution["remedy"] == "[erased]"
        )

    await eventually(blanked)
    # The cause stays for the reports: it says nothing about the person.
    assert (await services.feedback.get(f"/v1/feedback/{fid}/resolution")).json()["cause_code"] == "billing.error"
