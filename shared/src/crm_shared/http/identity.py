"""The identity provider: its signing keys (JWKS, OIDC discovery) and client-credentials tokens.

- `ProviderKeys` finds the key of a token by its `kid` in the provider's JWKS. Keys are cached for
  `jwks_cache_seconds`; a `kid` not in the cache refetches at once (the provider rotated its key),
  at most once per `jwks_refetch_seconds`, so a flood of made-up kids cannot become a flood of
  requests to the provider. Fetches are async (httpx): the event loop never waits on the network.
- `ServiceCredentials` gets and caches this service's own token (OAuth2 client credentials) until
  shortly before it expires.
- `check_auth_settings` is the startup check: outside `CRM_ENV=dev`, no built-in dev secret, and
  an issuer and audience must be set.

docs/security.md#identity-and-tokens says how an operator configures a provider.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from crm_shared.config import DEV_AUDIENCE, DEV_ISSUER, DEV_SECRET, AuthSettings

log = logging.getLogger(__name__)

Clock = Callable[[], float]

# Asymmetric algorithms only: a provider's key must never verify an HS256 token (a public key used
# as an HMAC secret is the classic algorithm-confusion forgery).
PROVIDER_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
DISCOVERY_PATH = "/.well-known/openid-configuration"


class InsecureAuthSettings(RuntimeError):
    """The service refuses to start: its token settings would accept tokens anyone can mint."""


class ProviderUnavailable(RuntimeError):
    """The provider's discovery document, JWKS or token endpoint did not answer usefully."""


def check_auth_settings(settings: AuthSettings) -> None:
    """Startup: refuse the dev secret and default issuer/audience unless CRM_ENV=dev."""
    if settings.is_dev:
        return
    problems: list[str] = []
    if settings.accepts_shared_secret and settings.secret == DEV_SECRET:
        problems.append(
            "CRM_AUTH_SECRET is the built-in dev secret (anyone can mint tokens with it): configure a provider "
            "(CRM_AUTH_OIDC_ISSUER or CRM_AUTH_JWKS_URL) or set a secret of your own"
        )
    if settings.accepts_shared_secret and len(settings.secret.encode()) < 32:
        problems.append("CRM_AUTH_SECRET is shorter than 32 bytes")
    if not settings.oidc_issuer and settings.issuer == DEV_ISSUER:
        problems.append("CRM_AUTH_ISSUER (or CRM_AUTH_OIDC_ISSUER) is not set: the tokens' issuer must be checked")
    if settings.audience == DEV_AUDIENCE and "audience" not in settings.model_fields_set:
        problems.append("CRM_AUTH_AUDIENCE is not set: the tokens' audience must be checked")
    if problems:
        raise InsecureAuthSettings(
            f"refusing to start with CRM_ENV={settings.env!r}: "
            + "; ".join(problems)
            + ". (CRM_ENV=dev allows the dev defaults; see docs/security.md#identity-and-tokens.)"
        )


@functools.cache
def _tls() -> ssl.SSLContext:
    """The system's CAs, loaded once (building a context costs more than a fetch)."""
    return ssl.create_default_context()


async def _get_json(url: str, timeout: float, **kwargs: Any) -> dict[str, Any]:
    # A client per fetch: fetches are rare (minutes apart) and a client must not outlive its loop.
    async with httpx.AsyncClient(timeout=timeout, verify=_tls()) as http:
        method = "POST" if "data" in kwargs else "GET"
        try:
            response = await http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise ProviderUnavailable(f"{url} answered {response.status_code}: {response.text[:200]}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderUnavailable(f"{url} did not answer JSON") from exc
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"{url} did not answer a JSON object")
    return body


@dataclass
class _Discovery:
    issuer: str | None = None
    jwks_uri: str | None = None
    token_endpoint: str | None = None


class Provider:
    """One provider's discovery document and keys, shared by every request of the process."""

    def __init__(self, settings: AuthSettings, clock: Clock = time.monotonic) -> None:
        self.settings = settings
        self.clock = clock
        self._discovery: _Discovery | None = None
        self._keys: dict[str | None, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._error: str | None = None
        self.fetches = 0  # how many times the JWKS was fetched (tests, metrics)

    def _guard(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def discovery(self) -> _Discovery:
        if self._discovery is not None:
            return self._discovery
        s = self.settings
        if not s.oidc_issuer:
            self._discovery = _Discovery(issuer=s.issuer, jwks_uri=s.jwks_url, token_endpoint=s.token_url)
            return self._discovery
        document = await _get_json(s.oidc_issuer.rstrip("/") + DISCOVERY_PATH, s.jwks_timeout_seconds)
        issuer = document.get("issuer")
        if issuer != s.oidc_issuer and issuer != s.oidc_issuer.rstrip("/"):
            # OpenID Connect Discovery 1.0, section 4.3: the issuer must be exactly the one asked.
            raise ProviderUnavailable(f"the discovery document names issuer {issuer!r}, not {s.oidc_issuer!r}")
        self._discovery = _Discovery(
            issuer=str(issuer),
            jwks_uri=s.jwks_url or document.get("jwks_uri"),
            token_endpoint=s.token_url or document.get("token_endpoint"),
        )
        return self._discovery

    async def issuer(self) -> str:
        return (await self.discovery()).issuer or self.settings.issuer

    async def token_endpoint(self) -> str:
        endpoint = (await self.discovery()).token_endpoint
        if not endpoint:
            raise ProviderUnavailable("no token endpoint: set CRM_AUTH_TOKEN_URL or CRM_AUTH_OIDC_ISSUER")
        return endpoint

    async def _refresh(self) -> None:
        self._fetched_at = self.clock()  # before any request: the rate limit holds while it is down
        self.fetches += 1
        jwks_uri = (await self.discovery()).jwks_uri
        if not jwks_uri:
            raise ProviderUnavailable("the provider publishes no jwks_uri; set CRM_AUTH_JWKS_URL")
        document = await _get_json(jwks_uri, self.settings.jwks_timeout_seconds)
        keys: dict[str | None, jwt.PyJWK] = {}
        for data in document.get("keys") or []:
            if not isinstance(data, dict) or data.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK(data)
            except jwt.PyJWTError:
                continue  # a key type or algorithm we do not support: other keys still count
            if key.algorithm_name in PROVIDER_ALGORITHMS:
                keys[data.get("kid")] = key
        self._keys = keys

    async def _try_refresh(self) -> None:
        """Fetch the keys; a failure keeps the keys we have (they stay good while it is away)."""
        try:
            await self._refresh()
            self._error = None
        except ProviderUnavailable as exc:
            self._error = str(exc)
            if self._keys:
                log.warning("identity provider keys not refreshed; using the cached ones", extra={"error": str(exc)})

    def _stale(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= self.settings.jwks_cache_seconds

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self.clock() - self._fetched_at >= self.settings.jwks_refetch_seconds

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The signing key named `kid` (without a kid: the provider's only key), or None.

        Raises ProviderUnavailable when no key was ever fetched and the provider does not answer.
        """
        async with self._guard():
            if self._stale():
                await self._try_refresh()
            found = self._find(kid)
            if found is None and self._may_refetch():
                await self._try_refresh()  # an unknown kid: the provider may have rotated its key
                found = self._find(kid)
            if found is None and not self._keys and self._error:
                raise ProviderUnavailable(self._error)
            return found

    def _find(self, kid: str | None) -> jwt.PyJWK | None:
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)


@dataclass
class _Cached:
    token: str
    refresh_at: float


@dataclass
class ServiceCredentials:
    """This service's client-credentials token, fetched when missing or near expiry."""

    provider: Provider
    clock: Clock = time.monotonic
    _cached: _Cached | None = field(default=None, init=False)

    def forget(self) -> None:
        """A peer refused the token (the provider revoked or rotated it): the next call fetches anew."""
        self._cached = None

    async def token(self) -> str:
        if self._cached is not None and self.clock() < self._cached.refresh_at:
            return self._cached.token
        s = self.provider.settings
        form = {"grant_type": "client_credentials"}
        if s.client_scope:
            form["scope"] = s.client_scope
        if s.client_audience:
            form["audience"] = s.client_audience
        answer = await _get_json(
            await self.provider.token_endpoint(),
            s.jwks_timeout_seconds,
            data=form,
            auth=(s.client_id or "", s.client_secret or ""),
        )
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise ProviderUnavailable("the token endpoint answered without an access_token")
        lifetime = float(answer.get("expires_in") or 300)
        # Refreshed at 80% of its life (at least 10 s before it ends): never sent just expired.
        self._cached = _Cached(token, self.clock() + max(min(lifetime * 0.8, lifetime - 10), 0))
        return token


_providers: dict[tuple[Any, ...], Provider] = {}
_credentials: dict[tuple[Any, ...], ServiceCredentials] = {}


def _provider_key(settings: AuthSettings) -> tuple[Any, ...]:
    return (
        settings.oidc_issuer,
        settings.jwks_url,
        settings.token_url,
        settings.issuer,
        settings.jwks_cache_seconds,
        settings.jwks_refetch_seconds,
    )


def provider_for(settings: AuthSettings) -> Provider:
    """The process-wide provider of these settings (one JWKS cache, not one per request)."""
    key = _provider_key(settings)
    if key not in _providers:
        _providers[key] = Provider(settings)
    return _providers[key]


def credentials_for(settings: AuthSettings) -> ServiceCredentials:
    key = (*_provider_key(settings), settings.client_id, settings.client_scope, settings.client_audience)
    if key not in _credentials:
        _credentials[key] = ServiceCredentials(provider_for(settings))
    return _credentials[key]
