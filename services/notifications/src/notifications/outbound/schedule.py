"""When a message or webhook delivery may leave: quiet hours in the customer's time zone, retry
backoff, and what an attempt's outcome means for the next one."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def parse_clock(value: str) -> time | None:
    """ "21:00" -> 21:00; "" -> None (quiet hours off)."""
    if not value.strip():
        return None
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def zone(name: str | None, default: str = "UTC") -> ZoneInfo:
    """The customer's zone; an unknown or missing one is the default (contacts validates, but a
    card from before that validation, or a zone removed from tzdata, must not stop a message)."""
    for candidate in (name, default, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def quiet_until(now: datetime, tz: ZoneInfo, start: time | None, end: time | None) -> datetime | None:
    """The end of the quiet hours `now` falls in (an aware datetime), or None outside them.

    The window may cross midnight (21:00-08:00) or not (12:00-14:00). The end is a local wall
    time: across a DST change it is still 08:00 local, whatever the UTC offset did overnight.
    """
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    # fold=0 and zoneinfo's handling of a gap give a valid instant for any wall time.
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(now.tzinfo)


def backoff(attempt: int, base: float, cap: float, *, jitter: float = 0.2, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt `attempt` (1-based): base * 2^(attempt-1), capped, then
    spread by +-jitter so a whole queue failing at once (an SMTP outage) does not retry in lockstep."""
    delay = min(base * (2 ** max(attempt - 1, 0)), cap)
    if jitter:
        delay *= 1 + (rng or random).uniform(-jitter, jitter)
    return delay


def stop(item: Any, status: str, reason: str, now: datetime) -> None:
    """A message or delivery that will not be attempted again (dead, suppressed, cancelled)."""
    item.status = status
    item.status_reason = reason
    item.next_attempt_at = None
    item.updated_at = now


def settle(
    item: Any,
    attempt: Any,
    *,
    number: int,
    ok: bool,
    permanent: bool,
    status_code: int | None,
    error: str | None,
    now: datetime,
    done: str,
    max_attempts: int,
    backoff_seconds: float,
    backoff_max_seconds: float,
) -> bool:
    """Close attempt `number` and move its message or webhook delivery on: `done` (the caller sets
    the time it is done), a retry after backoff, or dead after `max_attempts` or a permanent
    refusal. Returns whether the item was settled: one no longer `sending` under this attempt
    (erased, or taken over after its lease ran out) is left to the attempt that owns it."""
    if attempt is not None and attempt.outcome is None:
        attempt.outcome = done if ok else "failed"
        attempt.finished_at = now
        attempt.status_code = status_code
        attempt.error = error
    if item is None or item.status != "sending" or item.attempts != number:
        return False
    item.updated_at = now
    if ok:
        item.status, item.status_reason, item.next_attempt_at = done, None, None
        return True
    used = item.attempts - item.attempts_before_requeue
    if permanent or used >= max_attempts:
        why = "permanent failure" if permanent else f"{used} attempt(s) failed"
        stop(item, "dead", f"{why}: {error}", now)
        return True
    item.status = "retrying"
    item.status_reason = error
    item.next_attempt_at = now + timedelta(seconds=backoff(used, backoff_seconds, backoff_max_seconds))
    return True
