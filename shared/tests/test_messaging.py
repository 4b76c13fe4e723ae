"""Integration: outbox relay, inbox dedupe, dead letters and their replay, on the real stack."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select, update

from crm_devstack.testing import eventually, read_topic, unique_email, unique_phone
from crm_shared.contracts import Envelope, Topics, dead_letter_topic, new_event
from crm_shared.contracts.events import ContactCreatedV1
from crm_shared.messaging.models import OutboxMessage
from crm_shared.messaging.outbox import add_event

pytestmark = pytest.mark.integration


async def test_relay_publishes_rows_the_publish_after_commit_never_sent(services) -> None:
    """A crash between commit and publish leaves a row unsent; the relay sends it, once."""
    worker = services.workers["contacts"]
    customer_id = uuid.uuid4()
    card = ContactCreatedV1(customer_id=customer_id, name="Orphan Ltd", tier="bronze", created_at=datetime.now(UTC))
    event = new_event(type="crm.contact.created.v1", source="crm/contacts", subject=customer_id, data=card)
    async with worker.sessions() as session, session.begin():  # committed, never dispatched
        await add_event(session, event, Topics.contacts)
        await session.flush()
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == event.id)
            .values(created_at=datetime.now(UTC) - timedelta(seconds=30))
        )

    async def sent():
        async with worker.sessions() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == event.id))
            return row.sent_at is not None

    await eventually(sent, timeout=15)
    records = [
        r for r in await read_topic(services.stack.bootstrap, Topics.contacts) if r.key == str(customer_id).encode()
    ]
    assert len(records) == 1
    assert Envelope.model_validate_json(records[0].value).id == event.id


async def test_a_poison_message_is_dead_lettered_without_blocking_its_partition(services) -> None:
    customer = (
        await services.contacts.post(
            "/v1/customers",
            json={"name": "Poison Inc", "email": unique_email(), "phone": unique_phone(), "tier": "gold"},
        )
    ).json()
    key = customer["id"].encode()
    producer = AIOKafkaProducer(bootstrap_servers=services.stack.bootstrap, acks="all")
    await producer.start()
    try:
        # Same key as the customer's real events: same partition, so blocking would show.
        await producer.send_and_wait(Topics.feedback, b"{not json", key=key, headers=[("ce_id", b"poison-1")])
    finally:
        await producer.stop()

    response = await services.feedback.post("/v1/feedback", json=complaint(customer["id"]))
    assert response.status_code == 201

    await eventually(lambda: satisfaction_below(services, customer["id"], 75))  # the partition moved on

    [dead] = await eventually(lambda: dead_letters(services, "scoring-worker", key))
    headers = dict(dead.headers)
    assert headers["dlq-original-topic"] == Topics.feedback.encode()
    assert headers["dlq-error-type"] == b"ValidationError"
    assert dead.value == b"{not json"


async def test_a_failing_handler_dead_letters_after_bounded_retries_and_replay_after_the_fix_applies_it(
    services, capsys
) -> None:
    from prometheus_client import REGISTRY

    from crm_shared.config import KafkaSettings
    from crmctl.cli import dlq_inspect, dlq_replay

    dead_lettered = {"service": "scoring", "consumer": "scoring-worker"}
    dead_before = REGISTRY.get_sample_value("crm_dead_letters_total", dead_lettered) or 0

    customer = (
        await services.contacts.post(
            "/v1/customers",
            json={"name": "Bug Corp", "email": unique_email(), "phone": unique_phone(), "tier": "silver"},
        )
    ).json()
    await eventually(lambda: satisfaction_below(services, customer["id"], 75.1))  # baseline score exists
    consumer = next(c for c in services.workers["scoring"].consumers if c.name == "scoring-worker")
    real_handler = consumer.handlers["crm.feedback.received.v1"]
    attempts = 0

    async def buggy(session, event):
        nonlocal attempts
        if event.subject == customer["id"]:
            attempts += 1
            raise RuntimeError("bug in scoring for this customer")
        await real_handler(session, event)

    consumer.handlers["crm.feedback.received.v1"] = buggy
    try:
        posted = (await services.feedback.post("/v1/feedback", json=complaint(customer["id"]))).json()
        key = customer["id"].encode()
        [dead] = await eventually(lambda: dead_letters(services, "scoring-worker", key))
    finally:
        consumer.handlers["crm.feedback.received.v1"] = real_handler  # "the fix is deployed"
    assert attempts == 4  # bounded: CRM_MESSAGING_MAX_HANDLER_ATTEMPTS
    assert dict(dead.headers)["dlq-error"] == b"bug in scoring for this customer"
    score = (await services.scoring.get(f"/v1/scores/{customer['id']}")).json()
    assert score["satisfaction"] == 75.0  # the complaint was not applied
    assert REGISTRY.get_sample_value("crm_dead_letters_total", dead_lettered) >= dead_before + 1
    retried = dead_lettered | {"type": "crm.feedback.received.v1", "outcome": "retried"}
    assert REGISTRY.get_sample_value("crm_events_consumed_total", retried) >= 3

    kafka = KafkaSettings(bootstrap_servers=services.stack.bootstrap)
    capsys.readouterr()
    assert await dlq_inspect(kafka, "scoring-worker", dead.offset, dead.partition) == 0
    shown = capsys.readouterr().out
    assert "dlq-error: bug in scoring for this customer" in shown and posted["id"] in shown
    await dlq_replay(kafka, "scoring-worker")
    await eventually(lambda: satisfaction_below(services, customer["id"], 75))
    await dlq_replay(kafka, "scoring-worker")  # already replayed: not sent again

    def is_this_complaint(record) -> bool:
        return record.key == key and Envelope.model_validate_json(record.value).data["feedback_id"] == posted["id"]

    copies = [r for r in await read_topic(services.stack.bootstrap, Topics.feedback) if is_this_complaint(r)]
    assert len(copies) == 2  # the original and exactly one replay
    tasks = (await services.notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()["items"]
    assert len([t for t in tasks if t["type"] == "service_recovery"]) == 1  # others skipped the replay by event id


def complaint(customer_id: str) -> dict:
    return {"customer_id": customer_id, "type": "complaint", "severity": "low", "channel": "web", "description": "meh"}


async def satisfaction_below(services, customer_id: str, limit: float) -> bool:
    score = await services.scoring.get(f"/v1/scores/{customer_id}")
    return score.status_code == 200 and score.json()["satisfaction"] < limit


async def dead_letters(services, consumer: str, key: bytes) -> list:
    records = await read_topic(services.stack.bootstrap, dead_letter_topic(consumer))
    return [r for r in records if r.key == key]
