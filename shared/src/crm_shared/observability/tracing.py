"""OpenTelemetry spans, hand-written at the few places work crosses a boundary.

One complaint is one trace: the api's server span -> the outbox row (its headers keep the
`traceparent` of the span that wrote it) -> a producer span per publish (its traceparent goes
in the Kafka record headers) -> the consumer span of each service that reads it, with the
handler's SQL statements and its own outbox events as children, and so on down the chain.

Off by default: unless `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`; `none` is
the default), no SDK is loaded and every helper here returns at its first line, so the cost is
one `is None` check per hop. The exporter reads the standard variables
(`OTEL_EXPORTER_OTLP_ENDPOINT`, ...); `OTEL_SERVICE_NAME` defaults to the process name.
Tests install their own provider with `install()`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_shared.observability.context import TraceContext

log = logging.getLogger(__name__)

SERVICE_ATTRIBUTE = "crm.service"
_propagator = TraceContextTextMapPropagator()
_tracer: Tracer | None = None
_provider: Any = None


def enabled() -> bool:
    return _tracer is not None


def install(provider: Any) -> None:
    """Trace with this provider (a test's in-memory one, or the one built from the environment)."""
    global _tracer
    _tracer = provider.get_tracer("crm_shared")


def uninstall() -> None:
    global _tracer
    _tracer = None


def configure_from_environment(process_name: str) -> bool:
    """Install an SDK provider if OTEL_TRACES_EXPORTER asks for one; True when tracing is on."""
    global _provider
    if _tracer is not None:
        return True  # already on (several services in one process, or a test's provider)
    names = [n.strip().lower() for n in os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",") if n.strip()]
    names = [n for n in names if n != "none"]
    if not names:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or process_name})
    )
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        elif name == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            log.warning("unknown OTEL_TRACES_EXPORTER entry ignored", extra={"exporter": name})
    trace.set_tracer_provider(provider)
    _provider = provider
    install(provider)
    log.info("tracing on", extra={"exporters": names})
    return True


def shutdown() -> None:
    """Flush what the batch processor holds (process exit)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis=5000)


def trace_context(span: Span | None) -> TraceContext | None:
    """The span as the context module's TraceContext (what logs, headers and the outbox carry)."""
    if span is None:
        return None
    sc = span.get_span_context()
    if not sc.is_valid:
        return None
    return TraceContext(format(sc.trace_id, "032x"), format(sc.span_id, "016x"), format(sc.trace_flags, "02x"))


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, or None when tracing is off or no span is active."""
    if _tracer is None:
        return None
    ctx = trace_context(trace.get_current_span())
    return ctx.traceparent if ctx else None


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind,
    traceparent: str | None,
    attributes: Mapping[str, Any],
) -> Iterator[Span | None]:
    """A span continuing `traceparent` (a new trace without one), active for the block."""
    if _tracer is None:
        yield None
        return
    parent = _propagator.extract({"traceparent": traceparent}) if traceparent else None
    current = _tracer.start_span(name, context=parent, kind=kind, attributes=dict(attributes))
    with trace.use_span(current, end_on_exit=True, record_exception=True, set_status_on_exception=True):
        yield current


def start_producer_span(topic: str, headers: Mapping[str, str], service: str) -> tuple[Span | None, str | None]:
    """A span for one publish, child of the span that wrote the outbox row; returns the span and
    the traceparent the record must carry so that its consumers continue from this span."""
    if _tracer is None:
        return None, None
    stored = headers.get("traceparent")
    parent = _propagator.extract({"traceparent": stored}) if stored else None
    producer = _tracer.start_span(
        f"{topic} publish",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes={
            SERVICE_ATTRIBUTE: service,
            "messaging.system": "kafka",
            "messaging.operation.type": "send",
            "messaging.destination.name": topic,
            "messaging.message.id": headers.get("ce_id", ""),
            "crm.event.type": headers.get("ce_type", ""),
        },
    )
    ctx = trace_context(producer)
    return producer, ctx.traceparent if ctx else None


def end_span(span_: Span | None, error: BaseException | None = None) -> None:
    if span_ is None:
        return
    if error is not None:
        span_.record_exception(error)
        span_.set_status(Status(StatusCode.ERROR, repr(error)[:200]))
    span_.end()


def instrument_engine(engine: AsyncEngine, service: str) -> None:
    """One client span per SQL statement, but only inside a traced unit of work (a request or a
    consumed event): the relay's and timers' polling queries start no traces of their own."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _before(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if _tracer is None or context is None:
            return
        if not trace.get_current_span().get_span_context().is_valid:
            return
        operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
        context._crm_span = _tracer.start_span(
            f"db {operation}",
            kind=SpanKind.CLIENT,
            attributes={SERVICE_ATTRIBUTE: service, "db.system.name": "postgresql", "db.query.text": statement[:2000]},
        )

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _after(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        end_span(getattr(context, "_crm_span", None))

    @event.listens_for(sync_engine, "handle_error")
    def _error(exception_context: Any) -> None:
        context = exception_context.execution_context
        end_span(getattr(context, "_crm_span", None), exception_context.original_exception)
