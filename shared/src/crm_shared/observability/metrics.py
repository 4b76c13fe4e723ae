"""Prometheus metrics of every process: one registry per process, every series labelled `service`.

Hot paths only touch counters and histograms (a dict lookup and an add); gauges that need a
query (outbox backlog, pending timers) are sampled by the worker every few seconds, never per
event. In production each process has its own registry; in the test process all four services
share one, which the `service` label keeps apart.

The api serves `/metrics` on its own port without a token (like `/healthz`; kept out of the
OpenAPI schema); keep it off the public ingress. The worker serves the same text on
`<SERVICE>_METRICS_PORT` (0 = off).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# Latency buckets for a request or a handler: a few ms is the norm, seconds the trouble.
_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "crm_http_requests_total", "HTTP requests answered, by route template.", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "Time from request to response, by route template.",
    ["service", "method", "route"],
    buckets=_LATENCY_BUCKETS,
)
EVENTS_CONSUMED = Counter(
    "crm_events_consumed_total",
    "Events a consumer handled: ok (applied), duplicate (inbox hit), retried (one failed attempt that will be "
    "retried), dead_lettered.",
    ["service", "consumer", "type", "outcome"],
)
HANDLER_LATENCY = Histogram(
    "crm_event_handler_duration_seconds",
    "Time to handle one event and commit its transaction (successful attempts).",
    ["service", "consumer", "type"],
    buckets=_LATENCY_BUCKETS,
)
EVENTS_PRODUCED = Counter(
    "crm_events_produced_total", "Events the broker acknowledged, by event type.", ["service", "type"]
)
DEAD_LETTERS = Counter("crm_dead_letters_total", "Records sent to a dead-letter topic.", ["service", "consumer"])
CONSUMER_LAG = Gauge(
    "crm_consumer_lag",
    "Records in a partition the consumer has not reached yet (highwater - position).",
    ["service", "consumer", "topic", "partition"],
)
OUTBOX_UNSENT = Gauge("crm_outbox_unsent", "Outbox rows not yet acknowledged by the broker.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "crm_outbox_oldest_unsent_age_seconds", "Age of the oldest unsent outbox row (0 when none).", ["service"]
)
TIMERS_PENDING = Gauge(
    "crm_timers_pending",
    "Durable timers not yet fired (e.g. running SLA clocks, escalations due later).",
    ["service", "timer"],
)

# A query a service registers so the worker reports how many of its timers are pending.
PendingCount = Callable[[AsyncSession], Awaitable[int]]


def metrics_response(_request: Request) -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


UNMATCHED_ROUTE = "unmatched"


class HttpMetricsMiddleware:
    """Counts and times each request under its route template (`/v1/customers/{customer_id}`),
    never the raw path, so ids do not become label values; unknown paths share one label."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = route_template(scope)
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, method, route).observe(time.perf_counter() - started)


def route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    # path_format drops converters: `/v1/customers/{customer_id}`, not `{customer_id:uuid}`.
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE
