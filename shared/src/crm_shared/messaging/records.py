"""What the consumer reads off a consumed record: its headers, its process span, and the headers
of its copy on the dead-letter topic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import SpanKind

from crm_shared.contracts.envelope import Envelope
from crm_shared.observability import tracing


def headers(record: ConsumerRecord) -> dict[str, str]:
    return {name: value.decode(errors="replace") for name, value in (record.headers or ())}


def process_span(record: ConsumerRecord, event: Envelope, headers: dict[str, str], service: str, group: str) -> Any:
    """The consumer span of handling one record (a no-op without tracing)."""
    return tracing.span(
        f"{record.topic} process",
        kind=SpanKind.CONSUMER,
        traceparent=headers.get("traceparent"),
        attributes={
            tracing.SERVICE_ATTRIBUTE: service,
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": record.topic,
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.kafka.offset": record.offset,
            "messaging.message.id": str(event.id),
            "crm.event.type": event.type,
        },
    )


def dead_letter_headers(
    record: ConsumerRecord, group: str, exc: BaseException, attempts: int
) -> list[tuple[str, bytes]]:
    """The record's own headers plus where it came from and why it failed (`crmctl dlq` shows them)."""
    return [
        *list(record.headers or ()),
        ("dlq-consumer", group.encode()),
        ("dlq-original-topic", record.topic.encode()),
        ("dlq-original-partition", str(record.partition).encode()),
        ("dlq-original-offset", str(record.offset).encode()),
        ("dlq-error-type", type(exc).__name__.encode()),
        ("dlq-error", str(exc)[:4000].encode()),
        ("dlq-attempts", str(attempts).encode()),
        ("dlq-failed-at", datetime.now(UTC).isoformat().encode()),
    ]
