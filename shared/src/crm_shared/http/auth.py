"""Bearer JWT with scopes, verified by every service (PyJWT).

Scopes (crm_shared.contracts.scopes) follow `<area>:<read|write>`; `admin` implies every scope. `crmctl token` mints a dev
token signed with the dev secret; production verifies the identity provider's tokens (JWKS by `kid`,
crm_shared.http.identity; docs/security.md#identity-and-tokens).
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
from crm_shared.config import DEV_SECRET, AuthSettings
from crm_shared.contracts.scopes import ALL_SCOPES, PERSONAL_DATA_SCOPE, SERVICE_SCOPES
from crm_shared.http.identity import PROVIDER_ALGORITHMS, ProviderUnavailable, credentials_for, provider_for
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
_verified: dict[tuple[Any, ...], tuple[Principal, float]] = {}
_VERIFIED_MAX = 4096


def _remember(cache_key: tuple[Any, ...], principal: Principal, expires: float) -> None:
    if len(_verified) >= _VERIFIED_MAX:
        _verified.clear()
    _verified[cache_key] = (principal, expires)


def _recall(cache_key: tuple[Any, ...], settings: AuthSettings) -> Principal | None:
    cached = _verified.get(cache_key)
    if cached is None:
        return None
    if time.time() < cached[1] + settings.leeway_seconds:
        return cached[0]
    del _verified[cache_key]
    return None


def _decode(token: str, key: Any, algorithm: str, settings: AuthSettings, issuer: str) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.audience,
            issuer=issuer,
            leeway=settings.leeway_seconds,
            options={"require": ["exp", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthorized("The token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"The token is invalid: {exc}.") from exc
    return claims


def verify_token(token: str, settings: AuthSettings) -> Principal:
    """A shared-secret (HS256) or static-public-key token; the provider's tokens: `authenticate`."""
    symmetric = settings.algorithm.upper().startswith("HS")
    if symmetric and not settings.accepts_shared_secret:
        raise _unauthorized("Shared-secret tokens are not accepted: present a token of the identity provider.")
    key = settings.secret if symmetric else settings.public_key
    if not key:
        # An asymmetric algorithm without CRM_AUTH_PUBLIC_KEY: no token can be verified.
        raise _unauthorized(f"No key is configured to verify {settings.algorithm} tokens.")
    cache_key = (token, key, settings.algorithm, settings.audience, settings.issuer)
    if (cached := _recall(cache_key, settings)) is not None:
        return cached
    claims = _decode(token, key, settings.algorithm, settings, settings.issuer)
    principal = principal_from_claims(claims, settings)
    _remember(cache_key, principal, float(claims["exp"]))
    return principal


async def authenticate(token: str, settings: AuthSettings) -> Principal:
    """The caller a bearer token names: the provider's tokens by their `kid`, dev tokens by the secret."""
    if not settings.uses_provider:
        return verify_token(token, settings)
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise _unauthorized(f"The token is invalid: {exc}.") from exc
    algorithm = str(header.get("alg"))
    if algorithm.upper().startswith("HS") and settings.accepts_shared_secret:
        return verify_token(token, settings)
    if algorithm not in PROVIDER_ALGORITHMS:
        raise _unauthorized(f"The token is not signed by the identity provider (alg {algorithm}).")
    provider = provider_for(settings)
    kid = header.get("kid")
    try:
        key = await provider.key(None if kid is None else str(kid))
        issuer = await provider.issuer()
    except ProviderUnavailable as exc:
        raise ProblemError(
            503, "Service Unavailable", f"The identity provider cannot be reached: {exc}", type="unavailable"
        ) from exc
    if key is None:
        raise _unauthorized(f"The token's signing key ({kid}) is not one of the identity provider's keys.")
    # Keyed by the JWKS generation: a key the provider removed stops verifying cached tokens too.
    cache_key = (token, id(provider), provider.fetches, kid, issuer, settings.audience)
    if (cached := _recall(cache_key, settings)) is not None:
        return cached
    if key.algorithm_name != algorithm:
        raise _unauthorized(f"The token's algorithm {algorithm} is not its key's ({key.algorithm_name}).")
    claims = _decode(token, key.key, algorithm, settings, issuer)
    principal = principal_from_claims(claims, settings)
    _remember(cache_key, principal, float(claims["exp"]))
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


async def service_token(settings: AuthSettings, service: str) -> str:
    """The bearer token a service presents on its own reads of other services' APIs.

    A fixed token if the platform injects one; else the provider's client-credentials token
    (cached until near expiry); else, with a shared secret (dev), one minted from it.
    """
    if settings.service_token:
        return settings.service_token
    if settings.client_id:
        try:
            return await credentials_for(settings).token()
        except ProviderUnavailable as exc:
            raise ProblemError(
                503, "Service Unavailable", f"No service token from the identity provider: {exc}", type="unavailable"
            ) from exc
    if settings.accepts_shared_secret and (settings.is_dev or settings.secret != DEV_SECRET):
        return mint_token(settings, subject=f"service:{service}", scopes=SERVICE_SCOPES, ttl_seconds=86_400 * 365)
    raise ProblemError(
        503,
        "Service Unavailable",
        "This service has no credentials for other services: set CRM_AUTH_CLIENT_ID and CRM_AUTH_CLIENT_SECRET.",
        type="unavailable",
    )


def forget_service_token(settings: AuthSettings) -> None:
    """A peer answered 401 to our token (rotated or revoked at the provider): fetch a new one next time."""
    if settings.client_id:
        credentials_for(settings).forget()


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
        principal = await authenticate(credentials.credentials.strip(), request.app.state.settings.auth)
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
    return await authenticate(credentials.credentials.strip(), request.app.state.settings.auth)
