"""Request/event context carried across hops: correlation id, causation id, W3C trace context.

Kept in contextvars so that code deep in a service (an outbox write, a log line) picks them up
without threading them through every call.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
# What a caller may pass as X-Correlation-Id: anything else is replaced by a fresh id, so that a
# client header can never break a log line, a header or a column (tasks store it, 100 chars).
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:/@+=-]{1,100}$")


def accepted_correlation_id(value: str | None) -> str:
    if value and _CORRELATION_ID.match(value):
        return value
    return str(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class TraceContext:
    trace_id: str
    span_id: str
    flags: str = "01"

    @classmethod
    def new(cls) -> TraceContext:
        return cls(secrets.token_hex(16), secrets.token_hex(8))

    @classmethod
    def parse(cls, header: str | None) -> TraceContext | None:
        if not header:
            return None
        match = _TRACEPARENT.match(header.strip().lower())
        if not match or match.group(1) == "0" * 32:
            return None
        return cls(match.group(1), match.group(2), match.group(3))

    def child(self) -> TraceContext:
        """A new span in the same trace: each hop is its own span."""
        return TraceContext(self.trace_id, secrets.token_hex(8), self.flags)

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


@dataclass(frozen=True, slots=True)
class EventContext:
    correlation_id: str
    causation_id: str | None
    trace: TraceContext


_current: ContextVar[EventContext | None] = ContextVar("crm_event_context", default=None)


def current() -> EventContext:
    """The active context, or a fresh one for work that started nowhere in particular."""
    ctx = _current.get()
    if ctx is None:
        ctx = EventContext(str(uuid.uuid4()), None, TraceContext.new())
        _current.set(ctx)
    return ctx


def correlation_id() -> str | None:
    ctx = _current.get()
    return ctx.correlation_id if ctx else None


@contextmanager
def bind(
    *,
    correlation_id: str | None,
    causation_id: str | None,
    traceparent: str | None,
    span: TraceContext | None = None,
) -> Iterator[EventContext]:
    """`span`: the OpenTelemetry span of this work, when tracing is on (else a child of the parent)."""
    ctx = EventContext(
        correlation_id=accepted_correlation_id(correlation_id),
        causation_id=causation_id,
        trace=span or _child_of(traceparent),
    )
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def _child_of(traceparent: str | None) -> TraceContext:
    parent = TraceContext.parse(traceparent)
    return parent.child() if parent else TraceContext.new()


def set_for_request(
    *, correlation_id: str | None, traceparent: str | None, span: TraceContext | None = None
) -> EventContext:
    """Bind a context for the rest of an ASGI request task (reset by the task ending)."""
    ctx = EventContext(
        correlation_id=accepted_correlation_id(correlation_id),
        causation_id=None,
        trace=span or _child_of(traceparent),
    )
    _current.set(ctx)
    return ctx
