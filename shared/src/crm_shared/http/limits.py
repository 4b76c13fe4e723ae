"""Abuse limits every api applies before a route runs: request body size and request rate.

Body size: a request whose `Content-Length` is over its route's limit is answered 413 at once;
a body sent without one (chunked) is counted as it is read and cut off with 413 at the limit.
The limit is `CRM_LIMITS_MAX_BODY_BYTES`, larger for the import and batch routes (streamed
imports never hold the file in memory; a batch is parsed whole, so its limit is what a pod's
memory affords; docs/security.md#abuse-limits has the numbers).

Rate: each caller has a budget per scope class (read, write, import), counted by the `limits`
library in a moving window, keyed by the verified token's subject (a request without a valid token
by client address). Over budget: 429 with `Retry-After`. The counters live in the process
(`async+memory://`) unless `CRM_LIMITS_STORAGE_URI` points all replicas at one store
(`async+redis://...`), see docs/security.md. In the process they are `LocalWindows`, the same
moving window without the library's memory storage (which hands an expiry scan per caller to a
thread after every request).
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

import orjson
from limits import RateLimitItem, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_shared.config import LimitSettings
from crm_shared.http.auth import verify_token
from crm_shared.http.problems import PROBLEM_JSON, PROBLEM_TYPE_BASE, ProblemError

log = logging.getLogger(__name__)

ScopeClass = Literal["read", "write", "import"]
# Never limited: probes and scrapes must answer whatever a caller does.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/redoc"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def scope_class(method: str, path: str, settings: LimitSettings) -> ScopeClass:
    if method in READ_METHODS:
        return "read"
    if any(path.startswith(p) for p in settings.import_paths):
        return "import"
    return "write"


def body_limit(path: str, settings: LimitSettings) -> int:
    if any(path.startswith(p) for p in settings.import_paths):
        return settings.max_import_body_bytes
    if any(path.endswith(s) for s in settings.batch_path_suffixes):
        return settings.max_batch_body_bytes
    return settings.max_body_bytes


class BodyTooLarge(HTTPException):
    """Raised from `receive` while a route reads a body past its limit (problem handlers answer 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than this route takes ({limit:,} bytes).")


async def _send_problem(
    send: Send, status: int, title: str, detail: str, path: str, type_: str, headers: dict[str, str]
) -> None:
    """Answers before the app runs (so before its exception handlers): the same problem+json shape."""
    body = orjson.dumps(
        {"type": PROBLEM_TYPE_BASE + type_, "title": title, "status": status, "detail": detail, "instance": path}
    )
    raw = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


LOCAL_STORAGE = "async+memory://"


class LocalWindows:
    """Moving windows counted in this process: the times of a caller's hits within each budget's
    window, oldest first. A hit over budget is not counted (as the `limits` library's moving
    window does); callers quiet for a whole window are swept out now and then."""

    sweep_seconds = 60.0

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.hits: dict[tuple[str, str, int, int], deque[float]] = {}
        self.swept = clock()

    def _window(self, item: RateLimitItem, scope: str, caller: str, now: float) -> deque[float]:
        key = (scope, caller, item.amount, item.get_expiry())
        hits = self.hits.get(key)
        if hits is None:
            hits = self.hits[key] = deque()
        start = now - item.get_expiry()
        while hits and hits[0] < start:
            hits.popleft()
        return hits

    def hit(self, item: RateLimitItem, scope: str, caller: str) -> bool:
        now = self.clock()
        hits = self._window(item, scope, caller, now)
        if len(hits) >= item.amount:
            return False
        hits.append(now)
        if now - self.swept >= self.sweep_seconds:
            self._sweep(now)
        return True

    def reset_time(self, item: RateLimitItem, scope: str, caller: str) -> float:
        """When the oldest hit in the window leaves it (a budget frees up)."""
        now = self.clock()
        hits = self._window(item, scope, caller, now)
        return (hits[0] if hits else now) + item.get_expiry()

    def _sweep(self, now: float) -> None:
        self.swept = now
        for key in [k for k, hits in self.hits.items() if not hits or hits[-1] < now - k[3]]:
            del self.hits[key]


class RateLimiter:
    """The budgets of one process, over the storage the settings name."""

    def __init__(self, settings: LimitSettings, clock: Any = time.time) -> None:
        self.settings = settings
        self.clock = clock
        self.local: LocalWindows | None = None
        if settings.storage_uri == LOCAL_STORAGE:
            self.local = LocalWindows(clock)
        else:
            storage = storage_from_string(settings.storage_uri)
            if not isinstance(storage, Storage):
                raise ValueError(
                    f"CRM_LIMITS_STORAGE_URI must name an async storage (async+...), not {settings.storage_uri}"
                )
            self.storage = storage
            self.strategy = MovingWindowRateLimiter(self.storage)
        self.items: dict[ScopeClass, list[RateLimitItem]] = {
            "read": parse_many(settings.read_rate),
            "write": parse_many(settings.write_rate),
            "import": parse_many(settings.import_rate),
        }

    async def check(self, scope: ScopeClass, caller: str) -> int | None:
        """None if the request may go on (it is counted), else the seconds to wait."""
        if self.local is not None:
            for item in self.items[scope]:
                if not self.local.hit(item, scope, caller):
                    seconds: int = max(1, math.ceil(self.local.reset_time(item, scope, caller) - self.clock()))
                    return seconds
            return None
        for item in self.items[scope]:
            if not await self.strategy.hit(item, scope, caller):
                stats = await self.strategy.get_window_stats(item, scope, caller)
                wait: int = max(1, math.ceil(stats.reset_time - self.clock()))
                return wait
        return None


def _caller(scope: Scope, settings: Any) -> str | None:
    """The verified token's subject; else the client address (a bad token gets the address's budget);
    None for an exempt subject (the services' own tokens)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                try:
                    subject = verify_token(credentials.strip(), settings.auth).subject
                except ProblemError:
                    break
                if subject.startswith(tuple(settings.limits.exempt_subject_prefixes)):
                    return None
                return "sub:" + subject
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


class AbuseLimitMiddleware:
    """Rate then body size, before routing; answers 429 and 413 as problem+json."""

    def __init__(self, app: ASGIApp, settings: Any) -> None:
        self.app = app
        self.settings = settings
        self.limits: LimitSettings = settings.limits
        self.limiter = RateLimiter(self.limits) if self.limits.rate_limits_enabled else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if self.limiter is not None:
            klass = scope_class(method, path, self.limits)
            caller = _caller(scope, self.settings)
            try:
                wait = None if caller is None else await self.limiter.check(klass, caller)
            except Exception as exc:  # a shared store that is down must not take the api with it
                log.warning("rate limit store unavailable; request let through", extra={"error": repr(exc)})
                wait = None
            if wait is not None:
                detail = f"Your {klass} budget is spent; retry after {wait} s."
                headers = {"Retry-After": str(wait)}
                await _send_problem(send, 429, "Too many requests", detail, path, "rate-limited", headers)
                return
        limit = body_limit(path, self.limits)
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            detail = BodyTooLarge(limit).detail
            await _send_problem(send, 413, "Content too large", detail, path, "content-too-large", {})
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)
