"""Unit tests: event envelope and contracts."""

import json
import uuid
from datetime import UTC, datetime

import pytest

from crm_shared.contracts import Envelope, new_event
from crm_shared.contracts.events import EVENT_PAYLOADS, ContactCreatedV1, FeedbackReceivedV1
from crm_shared.contracts.export import SCHEMA_DIR, render
from crm_shared.observability import context


def _card() -> ContactCreatedV1:
    return ContactCreatedV1(
        customer_id=uuid.uuid4(), name="Acme", tier="key", owner="alice", created_at=datetime.now(UTC)
    )


def test_event_carries_cloudevents_fields_and_the_context_that_caused_it() -> None:
    card = _card()
    with context.bind(correlation_id="corr-1", causation_id="cause-1", traceparent=None):
        event = new_event(type="crm.contact.created.v1", source="crm/contacts", subject=card.customer_id, data=card)
    wire = json.loads(event.model_dump_json())
    assert wire["specversion"] == "1.0"
    assert wire["subject"] == str(card.customer_id)
    assert wire["correlationid"] == "corr-1" and wire["causationid"] == "cause-1"
    assert Envelope.model_validate_json(event.model_dump_json()).payload() == card


def test_an_event_cannot_be_built_with_the_wrong_payload() -> None:
    with pytest.raises(TypeError):
        new_event(type="crm.feedback.received.v1", source="x", subject="c", data=_card())
    with pytest.raises(TypeError):
        new_event(type="crm.unknown.v1", source="x", subject="c", data=_card())


def test_feedback_payload_rejects_unknown_severity() -> None:
    with pytest.raises(ValueError):
        FeedbackReceivedV1.model_validate(
            {
                "feedback_id": str(uuid.uuid4()),
                "customer_id": str(uuid.uuid4()),
                "type": "complaint",
                "severity": "apocalyptic",
                "channel": "phone",
                "received_at": datetime.now(UTC).isoformat(),
                "customer": {"tier": "gold"},
            }
        )


def test_published_json_schemas_match_the_contracts() -> None:
    """Integrators read schemas/; editing a contract without `make schemas` fails here."""
    rendered = render()
    on_disk = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
    assert set(on_disk) == set(rendered), "run `make schemas`"
    for name, text in rendered.items():
        assert on_disk[name] == text, f"{name} is stale: run `make schemas`"
    assert len(rendered) == len(EVENT_PAYLOADS) + 1
