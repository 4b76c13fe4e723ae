"""RFC 9457 problem details for every error a service returns.

Clients (front ends, call-centre integrations) get one shape for every failure:
`{"type","title","status","detail","instance", "errors":[{"field","message","code"}]}`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_shared.http.responses import JsonResponse

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://crm.example/problems/"
PROBLEM_JSON = "application/problem+json"


class ProblemResponse(JsonResponse):
    media_type = PROBLEM_JSON


class ProblemError(Exception):
    """Raise from anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        type: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type or title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers
        self.extensions = extensions


class NotFound(ProblemError):
    def __init__(self, what: str, ident: Any) -> None:
        super().__init__(404, "Not found", f"{what} {ident} does not exist", type="not-found")


class Conflict(ProblemError):
    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(409, "Conflict", detail, type="conflict", **extensions)


class ServiceUnavailable(ProblemError):
    def __init__(self, detail: str, retry_after: int = 2) -> None:
        super().__init__(
            503, "Service unavailable", detail, type="service-unavailable", headers={"Retry-After": str(retry_after)}
        )


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    type: str = "about:blank",
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": type if type.startswith(("http", "about:")) else PROBLEM_TYPE_BASE + type,
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extensions)
    return ProblemResponse(body, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem_error(request: Request, exc: ProblemError) -> ProblemResponse:
        extensions = dict(exc.extensions)
        return problem(
            request,
            exc.status,
            exc.title,
            exc.detail,
            type=exc.type,
            errors=exc.errors,
            headers=exc.headers,
            **extensions,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem(request, 400, "Malformed JSON", "The request body is not valid JSON.", type="malformed-json")
        fields = [{"field": _field(tuple(e["loc"])), "message": e["msg"], "code": e["type"]} for e in errors]
        return problem(
            request,
            422,
            "Validation failed",
            "; ".join(f"{f['field']}: {f['message']}" for f in fields),
            type="validation-error",
            errors=fields,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        titles = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}
        return problem(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail) if exc.detail else None,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> ProblemResponse:
        from crm_shared.messaging.consumer import is_transient

        if is_transient(exc):
            log.warning("dependency unavailable", extra={"error": repr(exc), "path": request.url.path})
            return problem(
                request,
                503,
                "Service unavailable",
                "A dependency (database) is unavailable; retry shortly.",
                type="service-unavailable",
                headers={"Retry-After": "2"},
            )
        log.exception("unhandled error", extra={"path": request.url.path})
        return problem(request, 500, "Internal server error", type="internal-error")
