"""The FastAPI app shape every service uses: lifespan, errors, correlation ids, health."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import start_http_server
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_shared.config import ServiceSettings
from crm_shared.db import create_engine, create_session_factory, unit_of_work
from crm_shared.http.auth import authenticated
from crm_shared.http.identity import check_auth_settings
from crm_shared.http.limits import AbuseLimitMiddleware
from crm_shared.http.problems import document_problems, install_problem_handlers, problem
from crm_shared.http.query import strict_query_parameters
from crm_shared.messaging.outbox import EventPublisher
from crm_shared.observability import context, metrics, tracing
from crm_shared.observability.logging import configure_logging

log = logging.getLogger(__name__)

CORRELATION_HEADER = "x-correlation-id"
# What a browser on an allowed origin may send and read (CRM_CORS_ALLOW_ORIGINS).
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "If-Match",
    "Idempotency-Key",
    CORRELATION_HEADER,
    "traceparent",
]
CORS_RESPONSE_HEADERS = ["ETag", "Location", "Idempotent-Replayed", "Retry-After", CORRELATION_HEADER, "traceparent"]


_CONTEXT_HEADERS = frozenset({CORRELATION_HEADER.encode(), b"traceparent"})


def _context_headers(scope: Scope) -> dict[str, str]:
    """The two headers the request context reads (ASGI names are lower case; the last one wins)."""
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in _CONTEXT_HEADERS}


class CorrelationMiddleware:
    """Binds correlation id and trace context for the request; echoes the correlation id.

    With tracing on, the request is a server span (named by its route template once routed)
    and the context's trace is that span, so the outbox rows it writes continue from it.
    """

    def __init__(self, app: ASGIApp, service: str = "") -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _context_headers(scope)
        if not tracing.enabled():
            await self._handle(scope, receive, send, headers, None)
            return
        with tracing.span(
            f"{scope['method']} {metrics.UNMATCHED_ROUTE}",
            kind=SpanKind.SERVER,
            traceparent=headers.get("traceparent"),
            attributes={tracing.SERVICE_ATTRIBUTE: self.service, "http.request.method": scope["method"]},
        ) as span:
            try:
                await self._handle(scope, receive, send, headers, span)
            finally:
                if span is not None:
                    route = metrics.route_template(scope)
                    span.update_name(f"{scope['method']} {route}")
                    span.set_attribute("http.route", route)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], span: Any) -> None:
        ctx = context.set_for_request(
            correlation_id=headers.get(CORRELATION_HEADER),
            traceparent=headers.get("traceparent"),
            span=tracing.trace_context(span),
        )

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                if span is not None:
                    span.set_attribute("http.response.status_code", message["status"])
                    if message["status"] >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                message.setdefault("headers", [])
                message["headers"] = [
                    *list(message["headers"]),
                    (b"x-correlation-id", ctx.correlation_id.encode("latin-1")),
                    (b"traceparent", ctx.trace.traceparent.encode("latin-1")),
                ]
            await send(message)

        await self.app(scope, receive, send_with_id)


async def propagate_context(request: httpx.Request) -> None:
    """A synchronous call to another service continues the caller's trace and correlation."""
    ctx = context.current()
    if "traceparent" not in request.headers:
        request.headers["traceparent"] = tracing.current_traceparent() or ctx.trace.traceparent
    if CORRELATION_HEADER not in request.headers:
        request.headers[CORRELATION_HEADER] = ctx.correlation_id


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits when the route returns, before the response is sent."""
    state = request.app.state
    async with unit_of_work(state.sessions, state.publisher.dispatch) as session:
        yield session


# scope="function": the commit happens before the response leaves, so a 201 means "stored".
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

Hook = Callable[[FastAPI], Awaitable[None]]


def _serve_metrics_apart(settings: ServiceSettings) -> Any:
    """CRM_HTTP_METRICS=port:<n>: the api's metrics on a port of their own, not beside the api."""
    port = settings.http.metrics_port
    if port is None:
        return None
    server, _thread = start_http_server(port, addr=settings.host)
    log.info("api metrics on", extra={"port": port})
    return server


def create_service_app(
    *,
    settings: ServiceSettings,
    title: str,
    description: str,
    routers: Sequence[APIRouter],
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    openapi_tags: list[dict[str, Any]] | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.service_name + "-api", settings.log_level)
        check_auth_settings(settings.auth)  # no dev secret outside CRM_ENV=dev
        tracing.configure_from_environment(settings.service_name + "-api")
        engine = create_engine(settings)
        tracing.instrument_engine(engine, settings.service_name)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = create_session_factory(engine)
        app.state.publisher = EventPublisher(
            settings.kafka, app.state.sessions, f"{settings.service_name}-api", service=settings.service_name
        )
        app.state.http = httpx.AsyncClient(
            timeout=settings.http_timeout_seconds, event_hooks={"request": [propagate_context]}
        )
        await app.state.publisher.start()
        metrics_server = _serve_metrics_apart(settings)
        for hook in on_startup:
            await hook(app)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            await app.state.publisher.stop()
            await app.state.http.aclose()
            await engine.dispose()
            tracing.shutdown()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()

    public_docs = settings.http.docs == "public"
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        dependencies=[Depends(strict_query_parameters)],
        # `auth` serves them from _docs_router behind a token, `off` not at all.
        openapi_url="/openapi.json" if public_docs else None,
        docs_url="/docs" if public_docs else None,
        redoc_url="/redoc" if public_docs else None,
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                    tags=openapi_tags,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema
    # Inside the correlation id (a 429 or 413 carries it), before routing and any body read.
    app.add_middleware(AbuseLimitMiddleware, settings=settings)
    app.add_middleware(CorrelationMiddleware, service=settings.service_name)
    # Outermost, so the time includes everything the app does; no token, no schema (see metrics).
    app.add_middleware(metrics.HttpMetricsMiddleware, service=settings.service_name)
    if settings.http.metrics == "public":
        app.add_route("/metrics", metrics.metrics_response, include_in_schema=False)
    elif settings.http.metrics == "auth":
        app.add_api_route(
            "/metrics", metrics.metrics_response, include_in_schema=False, dependencies=[Depends(authenticated)]
        )
    if settings.cors.origins:
        # Outermost: a preflight is answered before anything else, and errors carry the headers too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors.origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_RESPONSE_HEADERS,
            max_age=settings.cors.max_age_seconds,
        )
    install_problem_handlers(app)
    app.include_router(_health_router())
    if settings.http.docs == "auth":
        app.include_router(_docs_router(app))
    # Here, not at the top: the access log's route uses this module's SessionDep.
    from crm_shared.http.access_log import access_log_router

    app.include_router(access_log_router())
    for router in routers:
        app.include_router(router)
    return app


def _docs_router(app: FastAPI) -> APIRouter:
    """/openapi.json, /docs and /redoc for callers with a valid token (CRM_HTTP_DOCS=auth)."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(authenticated)])

    @router.get("/openapi.json")
    async def openapi_json() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title=f"{app.title} - docs")

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url="/openapi.json", title=f"{app.title} - ReDoc")

    return router


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Readiness: database and broker reachable",
        responses={503: {"description": "A dependency is down", "content": {"application/problem+json": {}}}},
    )
    async def readyz(request: Request) -> Any:
        state = request.app.state
        checks: dict[str, str] = {}
        try:
            async with asyncio.timeout(2):
                async with state.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        producer = state.publisher.producer
        if producer is None:
            checks["broker"] = "unavailable: not connected"
        else:
            try:
                async with asyncio.timeout(2):
                    await producer.client.fetch_all_metadata()
                checks["broker"] = "ok"
            except Exception as exc:
                checks["broker"] = f"unavailable: {type(exc).__name__}"
        if all(v == "ok" for v in checks.values()):
            return {"status": "ready", "checks": checks}
        return problem(
            request,
            503,
            "Not ready",
            "; ".join(f"{k}: {v}" for k, v in checks.items() if v != "ok"),
            type="not-ready",
            headers={"Retry-After": "2"},
            checks=checks,
        )

    return router
