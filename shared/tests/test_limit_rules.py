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


async def test_the_moving_window_frees_a_budget_as_the_oldest_hit_leaves_it() -> None:
    now = [1000.0]
    limiter = RateLimiter(LimitSettings(write_rate="3/second;5/minute"), clock=lambda: now[0])
    for step in (0.0, 0.2, 0.2):
        now[0] += step
        assert await limiter.check("write", "sub:a") is None
    assert await limiter.check("write", "sub:a") == 1  # 3 in the last second
    now[0] += 0.7  # the first hit (1.1 s ago) has left the second's window
    assert await limiter.check("write", "sub:a") is None
    now[0] += 1.1
    assert await limiter.check("write", "sub:a") is None  # 5 in the minute: the refused one did not count
    wait = await limiter.check("write", "sub:a")
    assert wait == 58  # the first hit, 2.2 s ago, leaves the minute in 57.8 s
    now[0] += 60.0
    assert await limiter.check("write", "sub:a") is None
    assert await limiter.check("write", "sub:b") is None
