"""The console server's app: one origin for the app, its sign-in and the four apis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_console import auth, proxy, static
from crm_console.settings import ConsoleSettings
from crm_shared.observability import metrics

_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(settings: ConsoleSettings | None = None) -> Starlette:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await app.state.http.aclose()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics.metrics_response, methods=["GET"]),
        Route("/auth/config", auth.config, methods=["GET"]),
        Route("/auth/dev/users", auth.dev_users, methods=["GET"]),
        Route("/auth/dev/token", auth.dev_token, methods=["POST"]),
        Route("/api/{api}/{path:path}", proxy.proxy, methods=_METHODS),
        Route("/{path:path}", static.spa, methods=["GET", "HEAD"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    # Requests per route template (`/api/{api}/{path}`, `/{path}`): the apis' own metrics, service "console".
    app.add_middleware(metrics.HttpMetricsMiddleware, service="console")
    app.state.settings = settings
    app.state.http = proxy.create_client(settings)
    return app
