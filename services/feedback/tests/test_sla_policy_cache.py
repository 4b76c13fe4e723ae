"""Unit test of the cached SLA policy (feedback/sla/policy_cache.py): the intake reads the policy
in force at most every few seconds per process, and at once after a change through this process.
What wakes the SLA timer is tested with crm_shared.timers (shared/tests/test_deadline_timer.py).
"""

from feedback.sla.policy_cache import PolicyCache
from feedback.sla.schemas import DEFAULT_TARGETS, SlaPolicy


def policy(version: int) -> SlaPolicy:
    return SlaPolicy(version=version, targets=DEFAULT_TARGETS, created_by="tests", created_at=None)


def test_the_cached_policy_is_read_again_after_its_ttl_and_at_once_after_a_change() -> None:
    now = [100.0]
    cache = PolicyCache(ttl=5.0, clock=lambda: now[0])
    assert cache.get("db") is None
    cache.put("db", policy(1))
    now[0] += 4.9
    assert cache.get("db") == policy(1)
    assert cache.get("other-db") is None  # one entry per database
    now[0] += 0.1  # another replica's change is read within the TTL
    assert cache.get("db") is None
    cache.put("db", policy(1))
    cache.forget("db")  # a change through this process
    assert cache.get("db") is None
