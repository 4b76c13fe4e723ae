"""RFC 9457 problem details for every error a service returns.

Clients (front ends, call-centre integrations) get one shape for every failure:
`{"type","title","status","detail","instance", "errors":[{"field","message","code"}]}`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_shared.failures import is_transient
from crm_shared.http.responses import JsonResponse

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://crm.example/problems/"
PROBLEM_JSON = "application/problem+json"


class ProblemResponse(JsonResponse):
    media_type = PROBLEM_JSON


class FieldError(BaseModel):
    field: str = Field(examples=["customer_id"])
    message: str
    code: str = Field(examples=["unknown_customer"])


class Problem(BaseModel):
    """RFC 9457 problem details, as every error of every service is returned."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://crm.example/problems/validation-error"])
    title: str = Field(examples=["Validation failed"])
    status: int = Field(examples=[422])
    detail: str | None = Field(default=None, examples=["severity: severity is required for a complaint"])
    instance: str | None = Field(default=None, examples=["/v1/customers"])
    errors: list[FieldError] | None = None


PROBLEM_STATUSES = {
    400: "Malformed request (bad JSON, cursor or Idempotency-Key)",
    401: "Missing, invalid or expired bearer token",
    403: "The token lacks the required scope",
    404: "Not found",
    409: "Conflict with the current state",
    412: "The resource changed since the ETag in If-Match",
    413: "The request body is larger than this route takes (docs/security.md#abuse-limits)",
    422: "Validation failed (field-level details in `errors`)",
    428: "A precondition header (If-Match) is required",
    429: "Too many requests for your token's budget; retry after `Retry-After` seconds",
    503: "A dependency is unavailable; retry after `Retry-After` seconds",
}


RETRY_AFTER = {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}


def document_problems(openapi: dict[str, Any]) -> dict[str, Any]:
    """Every operation answers errors as problem+json: say so in the schema, with the statuses."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schemas["Problem"].pop("$defs", {}).items():
        schemas[name] = definition
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    problem_content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, operations in openapi.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            wanted = [503] if not path.startswith("/v1/") else [400, 401, 403, 422, 429, 503]
            if "{" in path:
                wanted.append(404)
            if "requestBody" in operation:
                wanted.append(413)
            for status in wanted + [int(s) for s in responses if s.isdigit() and int(s) >= 400]:
                responses[str(status)] = {
                    "description": responses.get(str(status), {}).get("description")
                    or PROBLEM_STATUSES.get(status, "Error"),
                    "content": problem_content,
                    **({"headers": {"Retry-After": RETRY_AFTER}} if status in (429, 503) else {}),
                }
    return openapi


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


class ValidationFailed(ProblemError):
    """A business-rule violation on one field, shaped like Pydantic's errors (422 with `errors`)."""

    def __init__(self, field: str, message: str, code: str) -> None:
        super().__init__(
            422,
            "Validation failed",
            f"{field}: {message}",
            type="validation-error",
            errors=[{"field": field, "message": message, "code": code}],
        )


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
        titles = {
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not found",
            405: "Method not allowed",
            413: "Content too large",
        }
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first route that matched the path; list them all.
            allowed = {
                method
                for route in request.app.routes
                if getattr(route, "methods", None) and route.path_regex.match(request.url.path)
                for method in route.methods
            }
            headers["Allow"] = ", ".join(sorted(allowed))
        return problem(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail) if exc.detail else None,
            type="content-too-large" if exc.status_code == 413 else "about:blank",
            headers=headers or None,
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> ProblemResponse:
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
