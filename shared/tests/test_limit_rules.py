"""Which limits a request falls under, and the rate budget's answer (pure logic, no servers)."""

from crm_shared.config import LimitSettings
from crm_shared.http.limits import RateLimiter, body_limit, scope_class

SETTINGS = LimitSettings(max_body_bytes=10, max_batch_body_bytes=20, max_import_body_bytes=30, read_rate="2/minute")


def test_routes_fall_into_body_and_scope_classes() -> None:
    assert body_limit("/v1/customers", SETTINGS) == 10
    assert body_limit("/v1/feedback/batch", SETTINGS) == 20
    assert body_limit("/v1/feedback/batch/x", SETTINGS) == 10
    assert body_limit("/v1/imports", SETTINGS) == 30
    assert scope_class("GET", "/v1/imports", SETTINGS) == "read"
    assert scope_class("POST", "/v1/imports", SETTINGS) == "import"
    assert scope_class("PATCH", "/v1/customers/1", SETTINGS) == "write"


async def test_a_caller_over_budget_is_told_how_long_to_wait_and_others_are_not() -> None:
    limiter = RateLimiter(SETTINGS)
    assert await limiter.check("read", "sub:a") is None
    assert await limiter.check("read", "sub:a") is None
    wait = await limiter.check("read", "sub:a")
    assert wait is not None and 1 <= wait <= 60
    assert await limiter.check("read", "sub:b") is None
    assert await limiter.check("write", "sub:a") is None
