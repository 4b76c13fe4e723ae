"""Integration: the feedback API against the real PostgreSQL and broker."""

import uuid

import pytest

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, **overrides) -> dict:
    body = {
        "name": "Globex",
        "email": unique_email(),
        "phone": unique_phone(),
        "tier": "silver",
        "owner": "bob",
    } | overrides
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def complaint(**overrides) -> dict:
    return {
        "type": "complaint",
        "category": "service.delivery",
        "severity": "high",
        "channel": "phone",
        "description": "Delivery two days late.",
    } | overrides


async def feedback_of(services, customer_id: str) -> list[dict]:
    return (await services.feedback.get("/v1/feedback", params={"customer_id": customer_id})).json()["items"]


async def test_a_complaint_is_stored_and_announced_with_the_customer_tier_and_owner(services) -> None:
    customer = await new_customer(services, tier="key", owner="carol")
    created = await services.feedback.post("/v1/feedback", json=complaint(customer_id=customer["id"]))
    assert created.status_code == 201, created.text
    feedback = created.json()
    assert feedback["status"] == "received" and feedback["customer_tier"] == "key"

    async def announced():
        records = await read_topic(services.stack.bootstrap, "crm.feedback")
        return [r for r in records if dict(r.headers)["ce_id"] and r.key == customer["id"].encode()]

    [record] = await eventually(announced)
    from crm_shared.contracts import Envelope

    event = Envelope.model_validate_json(record.value)
    assert event.type == "crm.feedback.received.v1"
    assert event.data["feedback_id"] == feedback["id"]
    assert event.data["customer"] == {"tier": "key", "owner": "carol"}
    assert event.correlationid == created.headers["x-correlation-id"]


async def test_a_caller_is_identified_by_phone_or_email(services) -> None:
    customer = await new_customer(services)
    national = customer["phone"].removeprefix("+1")
    by_phone = await services.feedback.post("/v1/feedback", json=complaint(customer={"phone": national}))
    assert by_phone.status_code == 201, by_phone.text
    by_email = await services.feedback.post(
        "/v1/feedback", json=complaint(customer={"email": customer["email"].upper()}, type="praise", severity=None)
    )
    assert by_email.status_code == 201, by_email.text
    assert {by_phone.json()["customer_id"], by_email.json()["customer_id"]} == {customer["id"]}


async def test_same_idempotency_key_returns_the_same_feedback_and_stores_one(services) -> None:
    customer = await new_customer(services)
    key = {"Idempotency-Key": f"cc-{uuid.uuid4()}"}
    body = complaint(customer_id=customer["id"])
    first = await services.feedback.post("/v1/feedback", json=body, headers=key)
    second = await services.feedback.post("/v1/feedback", json=body, headers=key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert len(await feedback_of(services, customer["id"])) == 1


async def test_a_failed_attempt_leaves_its_idempotency_key_free_for_the_corrected_retry(services) -> None:
    """The key's claim is undone with the failed request (it runs in the request's transaction,
    on the driver connection): the corrected retry is stored, and its own retry replays it."""
    customer = await new_customer(services)
    key = {"Idempotency-Key": f"cc-{uuid.uuid4()}"}
    failed = await services.feedback.post("/v1/feedback", json=complaint(customer_id=str(uuid.uuid4())), headers=key)
    assert failed.status_code == 422, failed.text
    corrected = await services.feedback.post("/v1/feedback", json=complaint(customer_id=customer["id"]), headers=key)
    assert corrected.status_code == 201, corrected.text
    again = await services.feedback.post("/v1/feedback", json=complaint(customer_id=customer["id"]), headers=key)
    assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (201, corrected.json(), "true")
    assert len(await feedback_of(services, customer["id"])) == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (complaint(customer_id=str(uuid.uuid4())), 422, "customer_id"),
        # An unknown caller is not refused: see test_intake_channels (lead or unmatched).
        (complaint(category="product.smell"), 422, "category"),
        (complaint(severity=None), 422, "body"),
        (complaint(type="rant"), 422, "type"),
        ({k: v for k, v in complaint().items() if k != "description"}, 422, "description"),
        (complaint(channel="pigeon"), 422, "channel"),
    ],
)
async def test_bad_input_is_a_problem_and_stores_nothing(services, body, status, field) -> None:
    customer = await new_customer(services)
    if "customer_id" not in body and "customer" not in body:
        body = body | {"customer_id": customer["id"]}
    response = await services.feedback.post("/v1/feedback", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json().get("errors", [])], response.json()
    assert await feedback_of(services, customer["id"]) == []


async def test_malformed_json_and_bad_tokens_store_nothing(services) -> None:
    customer = await new_customer(services)
    broken = await services.feedback.post(
        "/v1/feedback",
        content=b'{"customer_id": "' + customer["id"].encode() + b'", "type": ',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400 and broken.json()["type"].endswith("malformed-json")
    for header in ({"Authorization": "Bearer nope"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        refused = await services.feedback.post(
            "/v1/feedback", json=complaint(customer_id=customer["id"]), headers=header
        )
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
    assert await feedback_of(services, customer["id"]) == []
