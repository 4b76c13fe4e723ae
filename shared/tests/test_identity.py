"""Unit: tokens of an identity provider (JWKS by kid, rotation, rate-limited refetch), client
credentials, and the startup check that keeps the dev secret out of production.

The provider is crm_devstack's dev identity provider on a local port (no stack needed); time is an
injected clock, so cache expiry and the refetch rate limit are tested without waiting.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from crm_devstack.identity import DEV_CLIENT_ID, DEV_CLIENT_SECRET, DevIdentityProvider
from crm_shared.config import DEV_SECRET, AuthSettings
from crm_shared.contracts.scopes import SERVICE_SCOPES
from crm_shared.http import auth
from crm_shared.http.auth import authenticate, mint_token
from crm_shared.http.identity import InsecureAuthSettings, Provider, ServiceCredentials, check_auth_settings
from crm_shared.http.problems import ProblemError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def no_auth_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings from these tests' arguments only (a dev stack in the same session sets CRM_AUTH_*)."""
    for name in list(os.environ):
        if name.startswith("CRM_AUTH_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="module")
def idp() -> Iterator[DevIdentityProvider]:
    provider = DevIdentityProvider(audience="crm-api")
    provider.start()
    yield provider
    provider.stop()


def settings_for(idp: DevIdentityProvider, **extra: object) -> AuthSettings:
    values: dict[str, object] = {
        "env": "production",
        "oidc_issuer": idp.issuer,
        "audience": "crm-api",
        "jwks_cache_seconds": 300,
        "jwks_refetch_seconds": 30,
    }
    return AuthSettings(**(values | extra))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Each test gets fresh provider state on its own clock (the registry is process-wide)."""
    clock = Clock()
    monkeypatch.setattr(auth, "provider_for", _fresh_providers(clock))
    return clock


def _fresh_providers(clock: Clock):  # type: ignore[no-untyped-def]
    providers: dict[tuple[object, ...], Provider] = {}

    def provider_for(settings: AuthSettings) -> Provider:
        key = (settings.oidc_issuer, settings.jwks_url, settings.issuer)
        return providers.setdefault(key, Provider(settings, clock))

    return provider_for


async def test_a_providers_token_is_verified_by_its_kid_and_carries_its_claims(idp, clock) -> None:
    settings = settings_for(idp)
    token = idp.issue("agent-1", ("contacts:read",), extra={"roles": ["agent"], "teams": ["north"]})

    principal = await authenticate(token, settings)

    assert principal.subject == "agent-1" and principal.has("contacts:read") and not principal.has("contacts:write")
    assert principal.is_("agent") and principal.teams == {"north"}


async def test_a_rotated_key_is_fetched_at_once_and_a_removed_key_stops_verifying(idp, clock) -> None:
    settings = settings_for(idp)
    old = idp.signing_kid
    old_token = idp.issue("before", ("contacts:read",))
    assert (await authenticate(old_token, settings)).subject == "before"

    new = idp.rotate()
    clock.now += 31  # past the refetch rate limit, well within the cache's lifetime
    assert (await authenticate(idp.issue("after", ("contacts:read",), kid=new), settings)).subject == "after"
    assert (await authenticate(old_token, settings)).subject == "before"  # both published

    idp.remove(old)
    clock.now += 301  # the cache expires: the provider's current keys are fetched again
    with pytest.raises(ProblemError) as refused:
        await authenticate(old_token, settings)
    assert refused.value.status == 401 and old in str(refused.value.detail)


async def test_unknown_kids_refetch_the_keys_at_most_once_per_interval(idp, clock) -> None:
    settings = settings_for(idp)
    await authenticate(idp.issue("warm-up", ("contacts:read",)), settings)
    provider = auth.provider_for(settings)
    fetched = provider.fetches
    forged = jwt.encode(
        {"sub": "x", "iss": idp.issuer, "aud": "crm-api", "exp": 2**31},
        idp._keys[-1].private,
        algorithm="RS256",
        headers={"kid": "made-up"},
    )

    for _ in range(20):
        with pytest.raises(ProblemError):
            await authenticate(forged, settings)
    assert provider.fetches == fetched  # within 30 s of the last fetch: no new request

    clock.now += 30
    with pytest.raises(ProblemError):
        await authenticate(forged, settings)
    assert provider.fetches == fetched + 1


async def test_a_bare_jwks_url_works_without_discovery(idp, clock) -> None:
    settings = AuthSettings(env="production", jwks_url=f"{idp.issuer}/jwks", issuer=idp.issuer, audience="crm-api")
    assert (await authenticate(idp.issue("via-jwks", ("tasks:read",)), settings)).has("tasks:read")


async def test_while_the_provider_is_down_the_cached_keys_still_verify(idp, clock) -> None:
    settings = settings_for(idp)
    token = idp.issue("steady", ("contacts:read",))
    assert (await authenticate(token, settings)).subject == "steady"
    provider = auth.provider_for(settings)
    provider._discovery.jwks_uri = "http://127.0.0.1:9/jwks"  # nothing listens there

    clock.now += 301  # the cache is stale; the refresh fails
    assert (await authenticate(idp.issue("still-steady", ("contacts:read",)), settings)).subject == "still-steady"


async def test_a_provider_that_never_answered_gives_503_and_is_asked_at_most_once_per_interval(clock) -> None:
    settings = AuthSettings(env="production", oidc_issuer="http://127.0.0.1:9/realms/crm", audience="crm")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode({"sub": "x", "exp": 2**31}, key, algorithm="RS256", headers={"kid": "k1"})

    for _ in range(5):
        with pytest.raises(ProblemError) as unavailable:
            await authenticate(forged, settings)
        assert unavailable.value.status == 503
    assert auth.provider_for(settings).fetches == 1  # one attempt within the refetch interval


@pytest.mark.parametrize(
    ("issued", "why"),
    [({"issuer": "https://evil.example/"}, "issuer"), ({"audience": "another-api"}, "audience")],
)
async def test_a_token_for_another_issuer_or_audience_is_refused(idp, clock, issued, why) -> None:
    token = idp.issue("someone", ("admin",), **issued)
    with pytest.raises(ProblemError) as refused:
        await authenticate(token, settings_for(idp))
    assert refused.value.status == 401 and why in str(refused.value.detail).lower()


async def test_outside_dev_a_shared_secret_token_is_refused_when_a_provider_is_configured(idp, clock) -> None:
    # Signed with the dev secret (what `crmctl token` makes): worthless against a provider.
    settings = settings_for(idp)
    with pytest.raises(ProblemError) as refused:
        await authenticate(mint_token(AuthSettings(), subject="intruder", scopes=("admin",)), settings)
    assert refused.value.status == 401
    # In dev the same token is accepted beside the provider's (the tests, `crmctl token`).
    dev = settings_for(idp, env="dev", issuer="crm-dev", audience="crm")
    assert (await authenticate(mint_token(dev, subject="developer"), dev)).subject == "developer"


async def test_an_hs256_token_naming_the_providers_key_is_refused(idp, clock) -> None:
    """Algorithm confusion: only the provider's asymmetric algorithms verify against its keys."""
    claims = {"sub": "x", "iss": idp.issuer, "aud": "crm-api", "exp": 2**31}
    token = jwt.encode(claims, "x" * 32, algorithm="HS256", headers={"kid": idp.signing_kid})
    with pytest.raises(ProblemError) as refused:
        await authenticate(token, settings_for(idp))
    assert refused.value.status == 401


async def test_client_credentials_are_cached_until_near_expiry_then_fetched_again(idp) -> None:
    clock = Clock()
    settings = settings_for(idp, client_id=DEV_CLIENT_ID, client_secret=DEV_CLIENT_SECRET)
    credentials = ServiceCredentials(Provider(settings, clock), clock)
    before = idp.token_requests

    first = await credentials.token()
    assert await credentials.token() == first and idp.token_requests == before + 1

    clock.now += idp.token_ttl_seconds * 0.8  # refreshed at 80% of its lifetime
    second = await credentials.token()
    assert second != first and idp.token_requests == before + 2
    claims = jwt.decode(second, options={"verify_signature": False})
    assert claims["iss"] == idp.issuer and set(claims["scope"].split()) == set(SERVICE_SCOPES)


async def test_a_wrong_client_secret_gets_no_token(idp) -> None:
    settings = settings_for(idp, client_id=DEV_CLIENT_ID, client_secret="wrong")
    with pytest.raises(Exception, match="401"):
        await ServiceCredentials(Provider(settings)).token()


def test_outside_dev_the_built_in_dev_secret_stops_the_start_naming_the_setting() -> None:
    with pytest.raises(InsecureAuthSettings, match="CRM_AUTH_SECRET") as refused:
        check_auth_settings(AuthSettings(env="production", issuer="https://idp.example/", audience="crm"))
    assert "CRM_ENV" in str(refused.value)
    check_auth_settings(AuthSettings(env="dev"))  # dev: the defaults are fine


def test_outside_dev_issuer_and_audience_must_be_set() -> None:
    with pytest.raises(InsecureAuthSettings, match="CRM_AUTH_ISSUER") as refused:
        check_auth_settings(AuthSettings(env="production", secret="a-real-secret-of-at-least-32-bytes!!"))
    assert "CRM_AUTH_AUDIENCE" in str(refused.value)


def test_a_configured_provider_or_own_secret_starts_outside_dev() -> None:
    check_auth_settings(
        AuthSettings(env="production", oidc_issuer="https://login.example/realms/crm", audience="crm-api")
    )
    check_auth_settings(
        AuthSettings(
            env="production", secret="a-real-secret-of-at-least-32-bytes!!", issuer="crm-compose", audience="crm"
        )
    )
    assert DEV_SECRET != "a-real-secret-of-at-least-32-bytes!!"
