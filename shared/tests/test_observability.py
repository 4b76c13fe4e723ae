"""Integration: one complaint is one trace across the four services, and the metrics count it."""

import uuid

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from prometheus_client.parser import text_string_to_metric_families

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.observability import tracing

pytestmark = pytest.mark.integration


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall()
        provider.shutdown()


async def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_one_complaint_is_one_trace_from_the_call_centre_to_the_task(services, spans) -> None:
    phone = unique_phone()
    customer = (
        await services.contacts.post(
            "/v1/customers",
            json={"name": "Traced Logistics", "email": unique_email(), "phone": phone, "tier": "key", "owner": "ines"},
        )
    ).json()
    api_before = await scrape(str(services.feedback.base_url) + "/metrics")
    worker_before = await scrape(services.stack.worker_metrics_url("scoring"))

    # By phone, as a call centre would (feedback asks contacts if its projection does not know
    # the number yet: that call continues the trace too).
    posted = await services.feedback.post(
        "/v1/feedback",
        json={
            "customer": {"phone": phone},
            "type": "complaint",
            "category": "service.delivery",
            "severity": "high",
            "channel": "phone",
            "description": "Pallets arrived crushed, twice.",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert posted.status_code == 201, posted.text
    trace_id = int(posted.headers["traceparent"].split("-")[1], 16)

    def in_trace():
        return [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]

    def kinds(found) -> dict[str, set[SpanKind]]:
        by_service: dict[str, set[SpanKind]] = {}
        for s in found:
            by_service.setdefault(s.attributes.get("crm.service"), set()).add(s.kind)
        return by_service

    async def whole_trace():
        """Spans end when their work commits, in any order across services: wait for all of them."""
        found = in_trace()
        by_service = kinds(found)
        task_insert = any(
            s.attributes.get("crm.service") == "notifications"
            and "INSERT INTO tasks" in str(s.attributes.get("db.query.text", ""))
            for s in found
        )
        complete = (
            {SpanKind.SERVER, SpanKind.PRODUCER} <= by_service.get("feedback", set())
            and SpanKind.CONSUMER in by_service.get("scoring", set())
            and SpanKind.CONSUMER in by_service.get("notifications", set())
        )
        ids = {s.context.span_id for s in found}
        parents_ended = all(s.parent.span_id in ids for s in found if s.kind == SpanKind.CONSUMER)
        return found if task_insert and complete and parents_ended else None

    found = await eventually(whole_trace, timeout=30)
    [request] = [s for s in found if s.kind == SpanKind.SERVER and s.attributes["crm.service"] == "feedback"]
    assert request.name == "POST /v1/feedback" and request.parent is None
    # Each consumer continues from a publish span, not from nowhere.
    ids = {s.context.span_id: s for s in found}
    for s in found:
        if s.kind == SpanKind.CONSUMER:
            assert ids[s.parent.span_id].kind == SpanKind.PRODUCER
    received = [
        s
        for s in found
        if s.kind == SpanKind.CONSUMER
        and s.attributes.get("crm.event.type") == "crm.feedback.received.v1"
        and s.attributes.get("crm.service") == "scoring"
    ]
    assert received and received[0].attributes["crm.outcome"] == "ok"

    api_after = await scrape(str(services.feedback.base_url) + "/metrics")
    labels = {"service": "feedback", "method": "POST", "route": "/v1/feedback", "status": "201"}
    assert (
        value(api_after, "crm_http_requests_total", **labels)
        >= value(api_before, "crm_http_requests_total", **labels) + 1
    )
    consumed = {
        "service": "scoring",
        "consumer": "scoring-worker",
        "type": "crm.feedback.received.v1",
        "outcome": "ok",
    }
    worker_after = await scrape(services.stack.worker_metrics_url("scoring"))
    assert value(worker_after, "crm_events_consumed_total", **consumed) >= (
        value(worker_before, "crm_events_consumed_total", **consumed) + 1
    )
    produced = {"service": "feedback", "type": "crm.feedback.received.v1"}
    assert value(worker_after, "crm_events_produced_total", **produced) >= (
        value(worker_before, "crm_events_produced_total", **produced) + 1
    )
    # Raw ids never become label values: the route template does.
    customer_route = {"service": "contacts", "method": "GET", "route": "/v1/customers/{customer_id}"}
    await services.contacts.get(f"/v1/customers/{customer['id']}")
    after_read = await scrape(str(services.contacts.base_url) + "/metrics")
    assert value(after_read, "crm_http_request_duration_seconds_count", **customer_route) >= 1
    assert not [key for key in after_read if customer["id"] in str(key)]

    # The queried gauges: feedback's running SLA clocks (the complaint started two) and every
    # worker's outbox backlog, sampled by the workers off the hot path.
    from sqlalchemy import func, select

    from feedback.sla.models import SlaClock

    async def clocks_reported():
        samples = await scrape(services.stack.worker_metrics_url("feedback"))
        async with services.workers["feedback"].sessions() as session:
            running = await session.scalar(select(func.count()).where(SlaClock.status == "running"))
        reported = samples.get(
            ("crm_timers_pending", frozenset({"service": "feedback", "timer": "sla_clocks"}.items()))
        )
        return running >= 2 and reported == running and samples

    samples = await eventually(clocks_reported, timeout=20)
    for service in services.clients:
        assert value(samples, "crm_outbox_oldest_unsent_age_seconds", service=service) >= 0
        assert ("crm_outbox_unsent", frozenset({"service": service}.items())) in samples
