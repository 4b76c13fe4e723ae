"""Integration: survey answers, source references, unknown callers and batches (real PostgreSQL and broker)."""

import asyncio
import uuid

import pytest

from crm_devstack.testing import envelopes, eventually, read_topic, unique_email, unique_phone

pytestmark = pytest.mark.integration


async def new_customer(services, **overrides) -> dict:
    body = {"name": "Initech", "email": unique_email(), "phone": unique_phone(), "tier": "gold", "owner": "bob"}
    response = await services.contacts.post("/v1/customers", json=body | overrides)
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


def survey(metric: str, score: int, **overrides) -> dict:
    return {"type": "survey_response", "channel": "survey", "survey": {"metric": metric, "score": score}} | overrides


def source_ref() -> dict:
    return {"source_system": "callcentre", "external_ref": f"CC-{uuid.uuid4().hex[:12]}"}


async def stored_under(services, external_ref: str) -> list[dict]:
    response = await services.feedback.get("/v1/feedback", params={"external_ref": external_ref})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def received_events(services, feedback_id: str) -> list[dict]:

    records = await read_topic(services.stack.bootstrap, "crm.feedback")
    events = envelopes(records)
    return [e.data for e in events if e.type == "crm.feedback.received.v1" and e.data["feedback_id"] == feedback_id]


@pytest.mark.parametrize(
    ("metric", "score", "accepted"),
    [
        ("csat", 0, False),
        ("csat", 1, True),
        ("csat", 5, True),
        ("csat", 6, False),
        ("nps", -1, False),
        ("nps", 0, True),
        ("nps", 10, True),
        ("nps", 11, False),
        ("ces", 0, False),
        ("ces", 1, True),
        ("ces", 7, True),
        ("ces", 8, False),
    ],
)
async def test_a_survey_score_must_be_in_its_metric_range(services, metric, score, accepted) -> None:
    customer = await new_customer(services)
    response = await services.feedback.post("/v1/feedback", json=survey(metric, score, customer_id=customer["id"]))
    if accepted:
        assert response.status_code == 201, response.text
        assert response.json()["survey"] == {"metric": metric, "score": score}
        assert response.json()["description"] == "" and response.json()["status"] == "recorded"
    else:
        assert response.status_code == 422, response.text
        assert "survey" in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "survey_response", "channel": "survey"}, "body"),  # no survey
        (complaint(survey={"metric": "nps", "score": 9}), "body"),  # a survey on a complaint
        ({"type": "praise", "channel": "web"}, "description"),  # only a survey may be wordless
        (survey("wow", 3), "survey.metric"),
        (complaint(source_system="call centre!", external_ref="CC-1"), "source_system"),
        (complaint(product="P" * 101), "product"),
    ],
)
async def test_malformed_kinds_are_refused(services, body, field) -> None:
    customer = await new_customer(services)
    response = await services.feedback.post("/v1/feedback", json=body | {"customer_id": customer["id"]})
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert (await services.feedback.get("/v1/feedback", params={"customer_id": customer["id"]})).json()["items"] == []


async def test_a_follow_up_answer_names_its_complaint_and_travels_in_the_event(services) -> None:
    customer, stranger = await new_customer(services), await new_customer(services)
    first = await services.feedback.post("/v1/feedback", json=complaint(customer_id=customer["id"], product="PRT-44"))
    assert first.status_code == 201, first.text
    complaint_id = first.json()["id"]
    assert first.json()["product"] == "PRT-44"

    unknown = await services.feedback.post(
        "/v1/feedback", json=survey("csat", 2, customer_id=customer["id"], related_feedback_id=str(uuid.uuid4()))
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "unknown_feedback"
    someone_elses = await services.feedback.post(
        "/v1/feedback", json=survey("csat", 2, customer_id=stranger["id"], related_feedback_id=complaint_id)
    )
    assert someone_elses.status_code == 422 and someone_elses.json()["errors"][0]["field"] == "related_feedback_id"

    answer = await services.feedback.post(
        "/v1/feedback",
        json=survey("csat", 2, customer={"email": customer["email"]}, related_feedback_id=complaint_id),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["related_feedback_id"] == complaint_id
    [event] = await eventually(lambda: received_events(services, answer.json()["id"]))
    assert event["survey"] == {"metric": "csat", "score": 2} and event["related_feedback_id"] == complaint_id
    assert event["type"] == "survey_response"


async def test_the_same_source_reference_is_stored_once_whatever_the_idempotency_key(services) -> None:
    customer = await new_customer(services)
    body = complaint(customer_id=customer["id"]) | source_ref()
    first = await services.feedback.post("/v1/feedback", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert first.status_code == 201, first.text
    assert first.json()["source_system"] == "callcentre"
    again = [
        await services.feedback.post("/v1/feedback", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}),
        await services.feedback.post("/v1/feedback", json=body),
        # A retry that changed another field is still the same source record.
        await services.feedback.post("/v1/feedback", json=body | {"severity": "low"}),
    ]
    assert [a.status_code for a in again] == [200, 200, 200]
    assert {a.json()["id"] for a in again} == {first.json()["id"]}
    assert len(await stored_under(services, body["external_ref"])) == 1
    await asyncio.sleep(0.5)  # let a wrongly published duplicate arrive
    assert len(await received_events(services, first.json()["id"])) == 1


async def test_a_reference_without_a_system_is_deduplicated_among_those_without_one(services) -> None:
    customer = await new_customer(services)
    ref = f"LEGACY-{uuid.uuid4().hex[:10]}"
    bare = await services.feedback.post("/v1/feedback", json=complaint(customer_id=customer["id"], external_ref=ref))
    again = await services.feedback.post("/v1/feedback", json=complaint(customer_id=customer["id"], external_ref=ref))
    other_system = await services.feedback.post(
        "/v1/feedback", json=complaint(customer_id=customer["id"], external_ref=ref, source_system="webshop")
    )
    assert [bare.status_code, again.status_code, other_system.status_code] == [201, 200, 201]
    assert again.json()["id"] == bare.json()["id"] != other_system.json()["id"]


async def test_concurrent_posts_of_one_source_reference_store_one(services) -> None:
    customer = await new_customer(services)
    body = complaint(customer_id=customer["id"]) | source_ref()
    answers = await asyncio.gather(
        *(
            services.feedback.post("/v1/feedback", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
            for _ in range(8)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201], [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert len(await stored_under(services, body["external_ref"])) == 1


async def test_an_unknown_caller_who_gives_a_name_becomes_a_lead(services) -> None:
    phone, email = unique_phone(), unique_email("caller")
    response = await services.feedback.post(
        "/v1/feedback", json=complaint(customer={"phone": phone, "email": email, "name": "Milton Waddams"})
    )
    assert response.status_code == 201, response.text
    customer_id = response.json()["customer_id"]
    assert customer_id is not None and response.json()["caller"] is None
    lead = (await services.contacts.get(f"/v1/customers/{customer_id}")).json()
    assert (lead["name"], lead["kind"], lead["lifecycle_stage"], lead["email"]) == (
        "Milton Waddams",
        "person",
        "lead",
        email,
    )
    # The next call from that number finds the lead; no second one is created.
    again = await services.feedback.post(
        "/v1/feedback", json=complaint(customer={"phone": phone, "name": "Milton W."}, type="inquiry", severity=None)
    )
    assert again.status_code == 201 and again.json()["customer_id"] == customer_id
    assert len((await services.contacts.get("/v1/customers", params={"phone": phone})).json()["items"]) == 1


async def test_an_unknown_nameless_caller_waits_unmatched_then_is_scored_once(services) -> None:
    phone = unique_phone()
    held = await services.feedback.post("/v1/feedback", json=complaint(customer={"phone": phone}) | source_ref())
    assert held.status_code == 201, held.text
    feedback = held.json()
    assert feedback["customer_id"] is None and feedback["caller"]["phone"] == phone.replace(" ", "")
    unmatched = (await services.feedback.get("/v1/feedback", params={"unmatched": "true", "limit": 200})).json()
    assert feedback["id"] in [f["id"] for f in unmatched["items"]]
    await asyncio.sleep(0.3)
    assert await received_events(services, feedback["id"]) == []  # nobody reacts to a customerless complaint

    customer = await new_customer(services, phone=phone, owner="peter")

    async def attached():
        stored = (await services.feedback.get(f"/v1/feedback/{feedback['id']}")).json()
        return stored if stored["customer_id"] == customer["id"] else None

    stored = await eventually(attached)
    assert stored["caller"] is None and stored["customer_tier"] == "gold"

    async def scored():
        response = await services.scoring.get(f"/v1/scores/{customer['id']}")
        found = response.status_code == 200 and response.json()["explanation"]["components"]["complaints"]
        return response.json() if found else None

    score = await eventually(scored)
    assert score["explanation"]["components"]["complaints"] == 1

    async def recovery_tasks():
        items = (await services.notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()
        return [t for t in items["items"] if t["type"] == "service_recovery"]

    [task] = await eventually(recovery_tasks)
    assert task["assignee"] == "peter"
    # A later change to the customer does not announce the feedback again.
    changed = await services.contacts.get(f"/v1/customers/{customer['id']}")
    patched = await services.contacts.patch(
        f"/v1/customers/{customer['id']}", json={"owner": "lumbergh"}, headers={"If-Match": changed.headers["ETag"]}
    )
    assert patched.status_code == 200, patched.text
    await asyncio.sleep(1.0)
    assert len(await received_events(services, feedback["id"])) == 1
    history = (await services.scoring.get(f"/v1/scores/{customer['id']}/history")).json()["items"]
    assert len([h for h in history if h["cause_event_type"] == "crm.feedback.received.v1"]) == 1
    assert len(await recovery_tasks()) == 1
    unmatched = (await services.feedback.get("/v1/feedback", params={"unmatched": "true", "limit": 200})).json()
    assert feedback["id"] not in [f["id"] for f in unmatched["items"]]


async def test_a_batch_answers_per_item_and_stores_each_valid_item_once(services) -> None:
    customer = await new_customer(services)
    first, second = source_ref(), source_ref()
    items = [
        complaint(customer_id=customer["id"]) | first,
        survey("nps", 42, customer_id=customer["id"]) | source_ref(),  # invalid score
        complaint(customer_id=customer["id"]) | first,  # duplicate within the batch
        survey("nps", 9, customer_id=customer["id"]) | second,
        "not an object",
        complaint(customer_id=str(uuid.uuid4())) | source_ref(),  # unknown customer id
        complaint(customer_id=customer["id"], description="nul \u0000 byte") | source_ref(),
    ]
    response = await services.feedback.post("/v1/feedback/batch", json={"items": items})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == [201, 422, 200, 201, 422, 422, 422]
    assert results[2]["feedback"]["id"] == results[0]["feedback"]["id"]
    assert results[1]["errors"][0]["field"] == "survey" and "feedback" not in results[1]
    assert results[5]["errors"][0]["field"] == "customer_id"
    assert results[5]["problem"]["type"].endswith("unknown-customer")

    retry = await services.feedback.post("/v1/feedback/batch", json={"items": items})
    assert [r["status"] for r in retry.json()["results"]] == [200, 422, 200, 200, 422, 422, 422]
    stored = (await services.feedback.get("/v1/feedback", params={"customer_id": customer["id"]})).json()["items"]
    assert sorted(f["external_ref"] for f in stored) == sorted([first["external_ref"], second["external_ref"]])

    key = {"Idempotency-Key": str(uuid.uuid4())}
    replay = [await services.feedback.post("/v1/feedback/batch", json={"items": items}, headers=key) for _ in range(2)]
    assert replay[1].headers.get("Idempotent-Replayed") == "true" and replay[1].json() == replay[0].json()


async def test_an_oversized_or_empty_batch_is_refused_whole(services) -> None:
    customer = await new_customer(services)
    item = complaint(customer_id=customer["id"])
    for items in ([item] * 1001, []):
        response = await services.feedback.post("/v1/feedback/batch", json={"items": items})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert (await services.feedback.get("/v1/feedback", params={"customer_id": customer["id"]})).json()["items"] == []
