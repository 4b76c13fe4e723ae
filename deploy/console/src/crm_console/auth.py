"""Sign-in for the app: how to sign in (`/auth/config`) and, in dev only, demo users and their tokens."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from crm_console import users
from crm_console.settings import ConsoleSettings
from crm_shared.http.auth import mint_token
from crm_shared.http.problems import problem


class DevTokenRequest(BaseModel):
    subject: str
    role: str | None = None


def _settings(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


def _not_dev(request: Request) -> Response:
    return problem(request, 404, "Not Found", "Dev sign-in exists only when CRM_ENV=dev.", type="not-found")


async def config(request: Request) -> Response:
    settings = _settings(request)
    if settings.is_dev:
        return JSONResponse({"mode": "dev"})
    if not settings.oidc_issuer or not settings.oidc_client_id:
        return problem(
            request,
            503,
            "Sign-in is not configured",
            "Set CRM_CONSOLE_OIDC_ISSUER and CRM_CONSOLE_OIDC_CLIENT_ID (or CRM_ENV=dev for demo users).",
            type="not-configured",
        )
    body: dict[str, Any] = {
        "mode": "oidc",
        "issuer": settings.oidc_issuer,
        "client_id": settings.oidc_client_id,
        "scopes": settings.oidc_scopes,
    }
    return JSONResponse(body, headers={"Cache-Control": "no-cache"})


async def dev_users(request: Request) -> Response:
    if not _settings(request).is_dev:
        return _not_dev(request)
    return JSONResponse([user.public() for user in users.DEV_USERS])


async def dev_token(request: Request) -> Response:
    settings = _settings(request)
    if not settings.is_dev:
        return _not_dev(request)
    try:
        body = DevTokenRequest.model_validate_json(await request.body())
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        return problem(request, 422, "Validation failed", "Send {subject, role}.", type="validation", errors=errors)
    user = users.find(body.subject, body.role)
    if user is None:
        known = ", ".join(f"{u.subject} ({u.role})" for u in users.DEV_USERS)
        return problem(
            request,
            422,
            "Unknown dev user",
            f"No demo user {body.subject!r} with role {body.role!r}; these exist: {known}.",
            type="validation",
        )
    token = mint_token(
        settings.auth,
        subject=user.subject,
        scopes=users.ROLE_SCOPES[user.role],
        ttl_seconds=settings.dev_token_ttl_seconds,
        roles=(user.role,),
        teams=user.teams,
        partner=user.partner,
    )
    return JSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": settings.dev_token_ttl_seconds},
        headers={"Cache-Control": "no-store"},
    )
