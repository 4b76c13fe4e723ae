"""Unit tests: bearer tokens, scopes and trace context."""

import time

import jwt
import pytest

from crm_shared.config import AuthSettings
from crm_shared.http.auth import mint_token, verify_token
from crm_shared.http.problems import ProblemError
from crm_shared.observability.context import TraceContext, accepted_correlation_id

SETTINGS = AuthSettings(secret="unit-test-secret-unit-test-secret-0123")


def test_a_minted_token_verifies_with_its_scopes() -> None:
    principal = verify_token(mint_token(SETTINGS, subject="cc-1", scopes=("feedback:write",)), SETTINGS)
    assert principal.subject == "cc-1"
    assert principal.has("feedback:write") and not principal.has("contacts:write")


def test_admin_scope_implies_every_scope() -> None:
    principal = verify_token(mint_token(SETTINGS, scopes=("admin",)), SETTINGS)
    assert principal.has("tasks:write")


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "someone-else"},
        {"iss": "evil"},
        {"exp": int(time.time()) - 3600},
    ],
)
def test_tokens_for_another_audience_issuer_or_expired_are_refused(claims: dict) -> None:
    base = {
        "sub": "x",
        "scope": "admin",
        "iss": SETTINGS.issuer,
        "aud": SETTINGS.audience,
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(base | claims, SETTINGS.secret, algorithm="HS256")
    with pytest.raises(ProblemError) as raised:
        verify_token(token, SETTINGS)
    assert raised.value.status == 401


def test_a_token_signed_with_another_key_is_refused() -> None:
    token = mint_token(AuthSettings(secret="another-secret-another-secret-0123456"))
    with pytest.raises(ProblemError):
        verify_token(token, SETTINGS)


def test_traceparent_is_parsed_and_a_child_keeps_the_trace() -> None:
    parent = TraceContext.parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    assert parent is not None
    child = parent.child()
    assert child.trace_id == parent.trace_id and child.span_id != parent.span_id
    assert TraceContext.parse("garbage") is None
    assert TraceContext.parse("00-" + "0" * 32 + "-00f067aa0ba902b7-01") is None


@pytest.mark.parametrize("sent", ["CC-2026-118842", "req:7f3a/2", "3f2b8c1e-0f1d-4d57-9d0c-0e5b0b1b9f11"])
def test_a_callers_correlation_id_is_kept(sent: str) -> None:
    assert accepted_correlation_id(sent) == sent


@pytest.mark.parametrize("sent", [None, "", "x" * 101, "has space", "line\nbreak", "caf\u00e9"])
def test_an_unusable_correlation_id_is_replaced_by_a_fresh_one(sent: str | None) -> None:
    replaced = accepted_correlation_id(sent)
    assert replaced != sent and len(replaced) == 36


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    strict = AuthSettings(secret=SETTINGS.secret, leeway_seconds=0)
    token = mint_token(strict, scopes=("feedback:write",), ttl_seconds=1)
    assert verify_token(token, strict).has("feedback:write")
    assert verify_token(token, strict).has("feedback:write")  # answered from the cache
    time.sleep(1.1)
    with pytest.raises(ProblemError) as refused:
        verify_token(token, strict)
    assert refused.value.status == 401


def test_a_remembered_token_is_not_accepted_under_another_key() -> None:
    token = mint_token(SETTINGS, scopes=("admin",))
    verify_token(token, SETTINGS)
    with pytest.raises(ProblemError):
        verify_token(token, AuthSettings(secret="another-secret-another-secret-0123456"))


def test_tracing_is_off_unless_an_exporter_is_named(monkeypatch) -> None:
    from crm_shared.observability import tracing

    for value in (None, "none", " none "):
        if value is None:
            monkeypatch.delenv("OTEL_TRACES_EXPORTER", raising=False)
        else:
            monkeypatch.setenv("OTEL_TRACES_EXPORTER", value)
        assert tracing.configure_from_environment("feedback-api") is False
        assert not tracing.enabled() and tracing.current_traceparent() is None


def test_metrics_use_the_route_template_and_one_label_for_unknown_paths() -> None:
    from starlette.routing import Route

    from crm_shared.observability.metrics import route_template

    route = Route("/v1/customers/{customer_id:uuid}", lambda request: None)
    assert route_template({"route": route}) == "/v1/customers/{customer_id}"
    assert route_template({}) == "unmatched"  # a 404 for /v1/<random> never adds a series
