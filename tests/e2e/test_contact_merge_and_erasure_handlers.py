"""Integration: feedback, scoring and notifications follow `crm.contact.merged.v1` and
`crm.contact.erased.v1`.

The contacts endpoints that publish these events are written separately, so the tests publish
the contact events (created too, so these tests do not depend on the contacts service's state)
to `crm.contacts` themselves, as the outbox relay would (key = subject, same headers), and check
the effects through the other services' APIs and databases.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope, Topics
from crm_shared.contracts.events import (
    ContactCreatedV1,
    ContactErasedV1,
    ContactMergedV1,
    ContactUpdatedV1,
    CustomerRef,
    FeedbackReceivedV1,
)
from crm_shared.normalize import normalize_phone

pytestmark = pytest.mark.integration

CONSUMERS = {"feedback": "feedback-worker", "scoring": "scoring-worker", "notifications": "notifications-worker"}
CONSUMED_BY = {Topics.contacts: list(CONSUMERS.values()), Topics.feedback: ["scoring-worker", "notifications-worker"]}


# -- helpers ---------------------------------------------------------------------------------


async def new_customer(services, name: str, tier: str = "gold") -> dict:
    """A customer as the contacts service announces it, present in every consumer's projection."""
    card = {
        "id": str(uuid.uuid4()),
        "name": name,
        "email": unique_email(),
        "phone": normalize_phone(unique_phone(), "US"),
        "tier": tier,
        "owner": "moneypenny",
    }
    created = ContactCreatedV1.model_validate({**card, "customer_id": card["id"], "created_at": datetime.now(UTC)})
    await publish(services, envelope("crm.contact.created.v1", card["id"], created))
    return card


async def complain(services, customer_id: str, severity: str, description: str = "Late again.") -> dict:
    response = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer_id": customer_id,
            "type": "complaint",
            "category": "service.delivery",
            "severity": severity,
            "channel": "phone",
            "description": description,
            "external_ref": f"CC-{uuid.uuid4().hex[:8]}",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def feedback_of(services, customer_id: str) -> list[dict]:
    return (await services.feedback.get("/v1/feedback", params={"customer_id": customer_id})).json()["items"]


async def tasks_of(services, customer_id: str) -> list[dict]:
    return (await services.notifications.get("/v1/tasks", params={"customer_id": customer_id})).json()["items"]


async def score_of(services, customer_id: str) -> dict | None:
    response = await services.scoring.get(f"/v1/scores/{customer_id}")
    return response.json() if response.status_code == 200 else None


async def history_of(services, customer_id: str) -> list[dict]:
    return (await services.scoring.get(f"/v1/scores/{customer_id}/history")).json()["items"]


async def query(services, service: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(services.stack.database_url(service).replace("+asyncpg", ""))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


def envelope(event_type: str, subject: str, data: Any, *, time: datetime | None = None) -> Envelope:
    return Envelope(
        type=event_type,
        source="crm/contacts",
        subject=subject,
        correlationid=str(uuid.uuid4()),
        data=data.model_dump(mode="json"),
        **({"time": time} if time else {}),
    )


def merged(survivor: dict, merged_away: dict) -> Envelope:
    card = {k: survivor[k] for k in ("name", "email", "phone", "tier", "owner")}
    data = ContactMergedV1.model_validate(
        {
            "survivor_id": survivor["id"],
            "merged_id": merged_away["id"],
            "survivor": {"customer_id": survivor["id"], **card},
            "merged_at": datetime.now(UTC),
        }
    )
    return envelope("crm.contact.merged.v1", merged_away["id"], data)


def erased(customer: dict, *aliases: dict) -> Envelope:
    data = ContactErasedV1(
        customer_id=customer["id"], erased_at=datetime.now(UTC), aliases=[uuid.UUID(a["id"]) for a in aliases]
    )
    return envelope("crm.contact.erased.v1", customer["id"], data)


async def publish(services, event: Envelope, topic: str = Topics.contacts) -> Any:
    """Send the envelope as the outbox relay does, and wait until all three consumers are past it."""
    producer = AIOKafkaProducer(bootstrap_servers=services.stack.bootstrap, acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic,
            event.model_dump_json().encode(),
            key=event.subject.encode(),
            headers=[
                ("ce_id", str(event.id).encode()),
                ("ce_type", event.type.encode()),
                ("ce_source", event.source.encode()),
                ("correlation_id", event.correlationid.encode()),
                ("causation_id", b""),
                ("content-type", b"application/cloudevents+json"),
            ],
        )
    finally:
        await producer.stop()
    await eventually(lambda: consumed_by_all(services, sent))
    return sent


async def consumed_by_all(services, sent: Any) -> bool:
    """Offsets are committed after a record's transaction, so a committed offset past it means done."""
    partition = TopicPartition(sent.topic, sent.partition)
    for group in CONSUMED_BY[sent.topic]:
        consumer = AIOKafkaConsumer(bootstrap_servers=services.stack.bootstrap, group_id=group)
        await consumer.start()
        try:
            committed = await consumer.committed(partition)
        finally:
            await consumer.stop()
        if committed is None or committed <= sent.offset:
            return False
    return True


async def snapshot(services, customer: dict) -> dict:
    """What a user could notice about a customer in the three services."""
    customer_id = uuid.UUID(customer["id"])
    return {
        "feedback": sorted(
            (f["id"], f["customer_id"], f["description"]) for f in await feedback_of(services, customer["id"])
        ),
        "score": await score_of(services, customer["id"]),
        "history": [h["id"] for h in await history_of(services, customer["id"])],
        "tasks": sorted(
            (t["id"], t["customer_id"], t["title"], t["status"]) for t in await tasks_of(services, customer["id"])
        ),
        "cards": [
            [
                tuple(r)
                for r in await query(
                    services, s, "SELECT * FROM customer_projection WHERE customer_id = $1", customer_id
                )
            ]
            for s in CONSUMERS
        ],
        "aliases": [
            sorted(
                tuple(r)
                for r in await query(services, s, "SELECT * FROM customer_aliases WHERE survivor_id = $1", customer_id)
            )
            for s in CONSUMERS
        ],
    }


async def complained_and_followed_up(services, customer: dict, tasks: int) -> None:
    async def done():
        score = await score_of(services, customer["id"])
        return score and score["satisfaction"] < 75 and len(await tasks_of(services, customer["id"])) >= tasks

    await eventually(done)


# -- merge -----------------------------------------------------------------------------------


async def test_a_merge_moves_feedback_history_and_tasks_to_the_survivor_and_rescores_it(services) -> None:
    survivor = await new_customer(services, "Wayne Enterprises")
    duplicate = await new_customer(services, "Wayne Enterprises Ltd")
    await complain(services, survivor["id"], "high")  # 45.5, at_risk: recovery + retention plan
    await complain(services, duplicate["id"], "medium")  # 58.4, watch: recovery
    await complained_and_followed_up(services, survivor, tasks=2)
    await complained_and_followed_up(services, duplicate, tasks=1)
    history_before = await history_of(services, survivor["id"]) + await history_of(services, duplicate["id"])

    merge = merged(survivor, duplicate)
    await publish(services, merge)

    feedback = await feedback_of(services, survivor["id"])
    assert len(feedback) == 2 and {f["customer_id"] for f in feedback} == {survivor["id"]}
    assert await feedback_of(services, duplicate["id"]) == []

    # C = 4 + 2 (decayed by milliseconds): 75 - 75 * (1 - e^(-6/8)) = 35.4
    score = await score_of(services, survivor["id"])
    assert (score["satisfaction"], score["band"]) == (35.4, "at_risk")
    assert score["explanation"]["components"]["complaints"] == 2
    assert score["last_event_id"] == str(merge.id)
    assert await score_of(services, duplicate["id"]) is None

    history = await history_of(services, survivor["id"])
    assert {h["id"] for h in history_before} < {h["id"] for h in history}
    latest = history[0]
    assert (latest["cause_event_id"], latest["cause_event_type"]) == (str(merge.id), "crm.contact.merged.v1")
    assert (latest["previous_satisfaction"], latest["satisfaction"]) == (45.5, 35.4)
    announced = [
        Envelope.model_validate_json(r.value)
        for r in await read_topic(services.stack.bootstrap, Topics.scores)
        if r.key == survivor["id"].encode()
    ]
    assert [e.data["current"]["satisfaction"] for e in announced if e.data["cause_event_id"] == str(merge.id)] == [35.4]

    tasks = await tasks_of(services, survivor["id"])
    assert sorted(t["type"] for t in tasks) == ["retention_plan", "service_recovery", "service_recovery"]
    assert {t["status"] for t in tasks} == {"open"}
    assert await tasks_of(services, duplicate["id"]) == []

    for service in CONSUMERS:
        cards = await query(
            services,
            service,
            "SELECT customer_id FROM customer_projection WHERE customer_id = $1",
            uuid.UUID(duplicate["id"]),
        )
        assert cards == [], service
        [alias] = await query(
            services, service, "SELECT * FROM customer_aliases WHERE merged_id = $1", uuid.UUID(duplicate["id"])
        )
        assert (str(alias["survivor_id"]), alias["phone"]) == (survivor["id"], duplicate["phone"])

    before = await snapshot(services, survivor)
    await publish(services, merge)  # redelivered: same event id
    assert await snapshot(services, survivor) == before


async def test_feedback_for_a_merged_id_after_the_merge_lands_on_the_survivor(services) -> None:
    survivor = await new_customer(services, "Cyberdyne Systems", tier="silver")
    duplicate = await new_customer(services, "Cyberdyne", tier="silver")
    await publish(services, merged(survivor, duplicate))

    # A call-centre system that cached the old id, and one that knows only the old phone number.
    by_old_id = await complain(services, duplicate["id"], "low")
    assert by_old_id["customer_id"] == survivor["id"]
    by_old_phone = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer": {"phone": duplicate["phone"]},
            "type": "complaint",
            "severity": "low",
            "channel": "phone",
            "description": "Still late.",
        },
    )
    assert by_old_phone.status_code == 201, by_old_phone.text
    assert by_old_phone.json()["customer_id"] == survivor["id"]

    # An event published under the old id before the merge, consumed after it (another topic,
    # so no order between the two).
    late = envelope(
        "crm.feedback.received.v1",
        duplicate["id"],
        FeedbackReceivedV1(
            feedback_id=uuid.uuid4(),
            customer_id=duplicate["id"],
            type="complaint",
            category="service.delivery",
            severity="low",
            channel="email",
            received_at=datetime.now(UTC),
            customer=CustomerRef(tier="silver", owner="moneypenny"),
        ),
    )
    await publish(services, late, Topics.feedback)

    async def all_three_counted():
        score = await score_of(services, survivor["id"])
        tasks = await tasks_of(services, survivor["id"])
        return score and score["explanation"]["components"]["complaints"] == 3 and len(tasks) == 3

    await eventually(all_three_counted)
    assert {f["id"] for f in await feedback_of(services, survivor["id"])} == {
        by_old_id["id"],
        by_old_phone.json()["id"],
    }
    assert await tasks_of(services, duplicate["id"]) == []
    assert await score_of(services, duplicate["id"]) is None


# -- erasure ---------------------------------------------------------------------------------


async def assert_forgotten(services, customer: dict, *aliases: dict) -> None:
    ids = [uuid.UUID(c["id"]) for c in (customer, *aliases)]
    personal = [v for c in (customer, *aliases) for v in (c["name"], c["email"], c["phone"])]

    feedback = await feedback_of(services, customer["id"])
    assert feedback and {(f["description"], f["external_ref"]) for f in feedback} == {("[erased]", None)}
    assert {(f["type"], f["category"], f["channel"]) for f in feedback} == {("complaint", "service.delivery", "phone")}

    for service in CONSUMERS:
        [card] = await query(services, service, "SELECT * FROM customer_projection WHERE customer_id = ANY($1)", ids)
        assert str(card["customer_id"]) == customer["id"]
        assert (card["name"], card["email"], card["phone"]) == ("[erased]", None, None)
        assert card["erased_at"] is not None and card["owner"] == "moneypenny"
        aliases_left = await query(
            services, service, "SELECT email, phone FROM customer_aliases WHERE survivor_id = $1", ids[0]
        )
        assert {tuple(a) for a in aliases_left} <= {(None, None)}
        kept = await query(
            services,
            service,
            "SELECT response_body::text AS body FROM idempotency_keys WHERE response_body IS NOT NULL",
        )
        assert not [r for r in kept if any(str(i) in r["body"] for i in ids)], service

    sent = await query(
        services, "feedback", "SELECT 1 FROM outbox WHERE key = ANY($1) AND sent_at IS NOT NULL", [str(i) for i in ids]
    )
    assert sent == []
    tasks = await tasks_of(services, customer["id"])
    assert tasks and not [t for t in tasks if any(p.lower() in t["title"].lower() for p in personal)]
    assert await score_of(services, customer["id"]) is not None  # numbers under an anonymous id stay


async def test_erasure_removes_personal_data_from_every_service_and_keeps_the_facts(services) -> None:
    person = await new_customer(services, f"Jane Roe {uuid.uuid4().hex[:6]}")
    duplicate = await new_customer(services, f"J. Roe {uuid.uuid4().hex[:6]}")
    await complain(services, person["id"], "high", f"{person['name']} says the pump leaked; call {person['phone']}")
    await complain(services, duplicate["id"], "medium", f"Ask for {duplicate['name']} at {duplicate['email']}")
    await complained_and_followed_up(services, person, tasks=2)
    await complained_and_followed_up(services, duplicate, tasks=1)
    await publish(services, merged(person, duplicate))

    erasure = erased(person, duplicate)
    await publish(services, erasure)
    await assert_forgotten(services, person, duplicate)
    assert (await score_of(services, person["id"]))["explanation"]["components"]["complaints"] == 2

    # No path brings the data back: a card event (even a newer one), new feedback by either id.
    card = {k: person[k] for k in ("name", "email", "phone", "tier", "owner")}
    update = ContactUpdatedV1.model_validate(
        {"customer_id": person["id"], **card, "version": 9, "changed": ["name"], "updated_at": datetime.now(UTC)}
    )
    await publish(
        services, envelope("crm.contact.updated.v1", person["id"], update, time=datetime.now(UTC) + timedelta(days=1))
    )
    for customer_id in (person["id"], duplicate["id"]):
        refused = await services.feedback.post(
            "/v1/feedback",
            json={"customer_id": customer_id, "type": "praise", "channel": "email", "description": "Thanks, Jane!"},
        )
        assert refused.status_code == 422 and refused.json()["type"].endswith("unknown-customer"), refused.text

    before = await snapshot(services, person)
    await publish(services, erasure)  # redelivered: same event id
    assert await snapshot(services, person) == before
    await assert_forgotten(services, person, duplicate)


async def test_an_erasure_handled_before_the_merge_it_lists_still_erases_the_merged_record(services) -> None:
    """The merge travels under the merged id, the erasure under the survivor's: either may come first."""
    person = await new_customer(services, f"John Doe {uuid.uuid4().hex[:6]}")
    duplicate = await new_customer(services, f"Johnny Doe {uuid.uuid4().hex[:6]}")
    await complain(services, person["id"], "low", f"{person['name']} called")
    await complain(services, duplicate["id"], "medium", f"{duplicate['name']} wrote from {duplicate['email']}")
    await complained_and_followed_up(services, person, tasks=1)
    await complained_and_followed_up(services, duplicate, tasks=1)

    await publish(services, erased(person, duplicate))
    await publish(services, merged(person, duplicate))

    await assert_forgotten(services, person, duplicate)
    assert len(await feedback_of(services, person["id"])) == 2
    assert len(await tasks_of(services, person["id"])) == 2
    assert (await score_of(services, person["id"]))["explanation"]["components"]["complaints"] == 2
