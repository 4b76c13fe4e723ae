"""Bearer JWT with scopes, verified by every service (PyJWT).

Scopes (crm_shared.contracts.scopes) follow `<area>:<read|write>`; `admin` implies every scope. `crmctl token` mints a dev
token signed with the dev secret; production verifies RS256 tokens from the real issuer.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from crm_shared import access
from crm_shared.config import AuthSettings
from crm_shared.contracts.scopes import ALL_SCOPES, PERSONAL_DATA_SCOPE, SERVICE_SCOPES
from crm_shared.http.problems import ProblemError

# The roles of record-level access (docs/security.md): what a caller may see follows its role,
# not only its scopes. A token without a role claim is an `integration` (a machine client).
ROLES = ("agent", "account_manager", "service_manager", "analyst", "admin", "integration", "partner")


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    scopes: frozenset[str]
    roles: frozenset[str] = frozenset({"integration"})
    # The teams the caller belongs to (an account manager sees their team's customers too).
    teams: frozenset[str] = frozenset()
    # The partner organisation a `partner` caller acts for (distributor, supplier).
    partner: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    def is_(self, role: str) -> bool:
        return role in self.roles

    def reach(self, settings: AuthSettings) -> access.Reach:
        """The customers this caller may see and change (crm_shared.access)."""
        key = settings.pseudonym_key.encode()
        return access.Reach.of(
            self.subject, self.roles, self.teams, self.partner, personal_data=self.has(PERSONAL_DATA_SCOPE), key=key
        )

    @property
    def manager(self) -> bool:
        """A service manager or admin (or a machine client): may close anyone's claimed task."""
        return bool(self.roles & access.MANAGERS)


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401, "Unauthorized", detail, type="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="crm"'}
    )


# Verified tokens, until they expire: an integration sends the same token with every request, and
# checking its signature each time was a measurable share of a request's CPU (docs/benchmarks.md).
_verified: dict[tuple[str | None, ...], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def verify_token(token: str, settings: AuthSettings) -> Principal:
    key = settings.public_key if settings.algorithm.startswith(("RS", "ES", "PS", "Ed")) else settings.secret
    if not key:
        # An asymmetric algorithm without CRM_AUTH_PUBLIC_KEY: no token can be verified.
        raise _unauthorized(f"No key is configured to verify {settings.algorithm} tokens.")
    cache_key = (token, key, settings.algorithm, settings.audience, settings.issuer)
    cached = _verified.get(cache_key)
    if cached is not None:
        if time.time() < cached[1] + settings.leeway_seconds:
            return cached[0]
        del _verified[cache_key]
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[settings.algorithm],
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=settings.leeway_seconds,
            options={"require": ["exp", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"The token is invalid: {exc}.") from exc
    principal = principal_from_claims(claims, settings)
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[cache_key] = (principal, float(claims["exp"]))
    return principal


def _names(value: object) -> frozenset[str]:
    """A claim holding names: a space-separated string (OAuth2 `scope`) or a list (`scp`, `roles`)."""
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list | tuple):
        return frozenset(str(item) for item in value)
    return frozenset()


def principal_from_claims(claims: dict[str, Any], settings: AuthSettings) -> Principal:
    """Maps a verified token's claims to a caller; the claim names are settings (providers differ)."""
    roles = _names(claims.get(settings.role_claim)) & frozenset(ROLES)
    partner = claims.get(settings.partner_claim)
    return Principal(
        subject=str(claims["sub"]),
        scopes=_names(claims.get(settings.scope_claim)),
        roles=roles or frozenset({"integration"}),
        teams=_names(claims.get(settings.team_claim)),
        partner=str(partner) if partner else None,
    )


def mint_token(
    settings: AuthSettings,
    subject: str = "dev",
    scopes: tuple[str, ...] = ALL_SCOPES,
    ttl_seconds: int = 86_400 * 30,
    *,
    roles: tuple[str, ...] = (),
    teams: tuple[str, ...] = (),
    partner: str | None = None,
) -> str:
    """A signed dev token (needs the HS256 secret; production tokens come from the issuer)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        settings.scope_claim: " ".join(scopes),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    if roles:
        claims[settings.role_claim] = list(roles)
    if teams:
        claims[settings.team_claim] = list(teams)
    if partner:
        claims[settings.partner_claim] = partner
    return jwt.encode(claims, settings.secret, algorithm="HS256")


def service_token(settings: AuthSettings, service: str) -> str:
    """The bearer token a service uses for its own reads of other services' APIs."""
    if settings.service_token:
        return settings.service_token
    return mint_token(settings, subject=f"service:{service}", scopes=SERVICE_SCOPES, ttl_seconds=86_400 * 365)


# Declares the scheme in OpenAPI (the "Authorize" button of /docs); errors stay ours (problem+json).
_bearer = HTTPBearer(auto_error=False, bearerFormat="JWT", description="`make token` prints a dev token.")


def require(scope: str, *alternatives: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """Dependency: the caller must present a valid bearer token carrying `scope` (or one of `alternatives`)."""
    accepted = (scope, *alternatives)

    async def dependency(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials.strip():
            raise _unauthorized("A bearer token is required.")
        principal = verify_token(credentials.credentials.strip(), request.app.state.settings.auth)
        if not any(principal.has(s) for s in accepted):
            wanted = " or ".join(f"'{s}'" for s in accepted)
            raise ProblemError(403, "Forbidden", f"The token lacks the {wanted} scope.", type="forbidden")
        reach = principal.reach(request.app.state.settings.auth)
        if reach.pseudonymised and not any(s.endswith(":read") for s in accepted):
            raise ProblemError(
                403, "Forbidden", "An analyst reads pseudonymised records and changes none.", type="forbidden"
            )
        # Every repository of this request filters by it (crm_shared.access).
        access.bind(reach)
        request.state.principal = principal
        return principal

    dependency.__name__ = "require_" + "_or_".join(s.replace(":", "_") for s in accepted)
    return dependency


async def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    """Dependency: any valid bearer token, whatever its scopes (the api's docs and metrics behind auth)."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials.strip():
        raise _unauthorized("A bearer token is required.")
    return verify_token(credentials.credentials.strip(), request.app.state.settings.auth)
