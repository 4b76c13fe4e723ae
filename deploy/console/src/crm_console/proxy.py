"""`/api/<service>/<path>` -> that service's api at `/<path>`: every method, headers both ways,
the body streamed in both directions (a live stream passes through chunk by chunk)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from crm_console.settings import APIS, ConsoleSettings
from crm_shared.http.problems import problem

# Hop-by-hop headers (RFC 9110 7.6.1) and Host (the upstream's). Content-Length passes both ways:
# a body streams through with its length, not re-chunked.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)


def _forward_headers(request: Request) -> list[tuple[str, str]]:
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _HOP]
    client = request.client.host if request.client else ""
    forwarded_for = request.headers.get("x-forwarded-for")
    headers.append(("x-forwarded-for", f"{forwarded_for}, {client}" if forwarded_for else client))
    headers.append(("x-forwarded-proto", request.url.scheme))
    headers.append(("x-forwarded-host", request.headers.get("host", "")))
    return headers


def create_client(settings: ConsoleSettings) -> httpx.AsyncClient:
    # No read timeout: a live stream is quiet between heartbeats; the apis bound their own work.
    timeout = httpx.Timeout(settings.upstream_connect_timeout_seconds, read=None)
    # trust_env=False: the apis are internal addresses; an HTTP(S)_PROXY of the environment is not for them.
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)


async def proxy(request: Request) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    client: httpx.AsyncClient = request.app.state.http
    api = request.path_params["api"]
    if api not in APIS:
        return problem(request, 404, "Not Found", f"No api named {api!r}; these are: {', '.join(APIS)}.")
    path = request.path_params.get("path", "")
    url = f"{settings.api_url(api)}/{path}"
    body = request.stream() if request.method not in ("GET", "HEAD", "OPTIONS") else None
    upstream_request = client.build_request(
        request.method,
        url,
        params=request.url.query.encode("latin-1") if request.url.query else None,
        headers=_forward_headers(request),
        content=body,
    )
    try:
        upstream = await client.send(upstream_request, stream=True)
    except httpx.HTTPError as exc:
        return problem(
            request,
            502,
            "Bad Gateway",
            f"The {api} api did not answer ({type(exc).__name__}); is it running?",
            type="bad-gateway",
        )

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await upstream.aclose()

    headers = [(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in _HOP]
    response = StreamingResponse(relay(), status_code=upstream.status_code)
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    if upstream.headers.get("content-type", "").startswith("text/event-stream"):
        response.raw_headers.append((b"x-accel-buffering", b"no"))
    return response
