"""Unit tests (no servers): signing, template rendering and fallback, quiet hours, backoff."""

import base64
import hashlib
import hmac
import random
from datetime import UTC, datetime, time
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from notifications.messages import templates
from notifications.messages.schemas import TemplatePut
from notifications.outbound import schedule, signing
from notifications.webhooks.service import matches

# -- Standard Webhooks signatures -------------------------------------------------------------


def test_a_signature_is_the_base64_hmac_sha256_of_id_timestamp_and_body_with_the_decoded_secret() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()
    body = b'{"type":"crm.contact.created.v1"}'
    expected = base64.b64encode(hmac.new(b"k" * 24, b"msg_1.1700000000." + body, hashlib.sha256).digest()).decode()
    assert signing.sign(secret, "msg_1", 1700000000, body) == f"v1,{expected}"
    headers = signing.headers(secret, "msg_1", 1700000000, body)
    assert headers == {"webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": f"v1,{expected}"}


def test_the_standard_webhooks_reference_vector_verifies() -> None:
    """The example from the Standard Webhooks specification (standardwebhooks.com)."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signing.sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == signature
    assert signing.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, f"v1,bogus {signature}")
    assert not signing.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, signature)


def test_new_secrets_are_prefixed_random_and_decodable() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == signing.SECRET_BYTES


def test_subscription_patterns_match_exact_types_prefixes_and_all() -> None:
    assert matches(["crm.feedback.*"], "crm.feedback.received.v1")
    assert not matches(["crm.feedback.*"], "crm.feedbackx.received.v1")
    assert matches(["crm.contact.erased.v1"], "crm.contact.erased.v1")
    assert not matches(["crm.contact.erased.v1"], "crm.contact.created.v1")
    assert matches(["*"], "crm.score.changed.v2")


def test_the_webhooks_consumer_passes_by_event_types_nobody_subscribed_to_only_while_its_copy_is_fresh() -> None:
    """No transaction for an event no subscription wants; without a fresh copy, every event goes to
    the handler (which reads the subscriptions)."""
    import asyncio
    import uuid

    from notifications.changes import ChangeWatch
    from notifications.webhooks.repository import ActiveSubscription
    from notifications.webhooks.watch import SubscribedHandlers, SubscriptionCache

    async def handler(session, event) -> None:
        pass

    watch = ChangeWatch("test")
    cache = SubscriptionCache(watch)
    handlers = SubscribedHandlers({"crm.feedback.received.v1": handler, "crm.task.created.v1": handler})
    handlers.cache = cache
    assert handlers.get("crm.task.created.v1") is handler  # nothing read yet
    changed = asyncio.Event()
    wake = SimpleNamespace(listener=SimpleNamespace(is_closed=lambda: False), event=changed, clear=changed.clear)
    watch.wake = wake  # type: ignore[assignment]
    watch.reading()
    cache.rows = [ActiveSubscription(uuid.uuid4(), ("crm.feedback.*",))]
    assert handlers.get("crm.feedback.received.v1") is handler
    assert handlers.get("crm.task.created.v1") is None
    assert handlers.get("crm.contact.created.v1") is None  # no handler at all
    wake.event.set()  # a subscription changed somewhere
    assert handlers.get("crm.task.created.v1") is handler


# -- templates --------------------------------------------------------------------------------

VARIANTS = {
    "en": {"subject": "Hello {{customer.name}}", "body": "Case {{data.feedback_id}} ({{data.missing}})"},
    "de": {"subject": "Hallo {{ customer.name }}", "body": "Fall {{data.feedback_id}}"},
    "zh-Hant": {"subject": "你好", "body": "{{customer.name}}"},
}
VALUES = {"customer": {"name": "Acme"}, "data": {"feedback_id": "F-1"}}


@pytest.mark.parametrize(
    ("wanted", "chosen"),
    [
        ("de", "de"),
        ("de-CH", "de"),
        ("DE-at", "de"),
        ("zh-Hant-TW", "zh-Hant"),
        ("zh", "en"),
        ("fr", "en"),
        (None, "en"),
    ],
)
def test_the_language_falls_back_from_the_region_to_the_language_to_english(wanted, chosen) -> None:
    assert templates.choose_language(VARIANTS, wanted) == chosen


def test_placeholders_render_from_the_card_and_event_data_and_unknown_ones_render_empty() -> None:
    assert templates.render(VARIANTS, "de-CH", VALUES) == ("de", "Hallo Acme", "Fall F-1")
    assert templates.render(VARIANTS, "fr", VALUES) == ("en", "Hello Acme", "Case F-1 ()")


def test_every_shipped_template_has_english_and_renders_without_leftover_placeholders() -> None:
    values = {
        "customer": {"name": "Acme", "owner": "erin", "tier": "gold"},
        "event": {"type": "crm.feedback.received.v1", "time": "2026-12-01T10:00:00Z"},
        "data": {"feedback_id": "F-1", "severity": "high", "category": "service.delivery"},
        "staff": {"name": "erin"},
    }
    for key in ("satisfaction_survey", "win_back", "complaint_received", "staff_task_alert"):
        variants = templates.DEFAULT_TEMPLATES[key]
        assert "en" in variants
        for language in variants:
            _, subject, body = templates.render(variants, language, values)
            assert "{{" not in subject + body and subject and body


def test_a_template_without_english_or_with_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match="'en' variant is required"):
        TemplatePut.model_validate({"variants": {"de": {"subject": "x", "body": "y"}}})
    with pytest.raises(ValueError, match="unknown placeholder"):
        TemplatePut.model_validate({"variants": {"en": {"subject": "x", "body": "{{ cusomer.name }}"}}})


# -- quiet hours ------------------------------------------------------------------------------

START, END = time(21, 0), time(8, 0)
BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_outside_quiet_hours_a_message_leaves_now() -> None:
    assert schedule.quiet_until(at("2026-06-10T12:00:00+00:00"), BERLIN, START, END) is None
    assert schedule.quiet_until(at("2026-06-10T18:59:59+00:00"), BERLIN, START, END) is None  # 20:59 local


def test_in_the_evening_a_message_waits_until_the_next_morning_local_time() -> None:
    until = schedule.quiet_until(at("2026-06-10T19:30:00+00:00"), BERLIN, START, END)  # 21:30 CEST
    assert until == at("2026-06-11T06:00:00+00:00")  # 08:00 CEST


def test_after_midnight_a_message_waits_until_the_same_morning() -> None:
    until = schedule.quiet_until(at("2026-01-10T02:00:00+00:00"), BERLIN, START, END)  # 03:00 CET
    assert until == at("2026-01-10T07:00:00+00:00")


def test_the_end_of_quiet_hours_is_local_wall_time_across_a_dst_change() -> None:
    # The night of 28-29 March 2026 Berlin moves from +01:00 to +02:00: 08:00 local is 06:00 UTC.
    until = schedule.quiet_until(at("2026-03-28T22:00:00+00:00"), BERLIN, START, END)
    assert until == at("2026-03-29T06:00:00+00:00")


def test_a_window_within_one_day_and_a_disabled_window() -> None:
    assert schedule.quiet_until(at("2026-06-10T12:30:00+00:00"), ZoneInfo("UTC"), time(12), time(14)) == at(
        "2026-06-10T14:00:00+00:00"
    )
    assert schedule.quiet_until(at("2026-06-10T23:00:00+00:00"), BERLIN, None, None) is None
    assert schedule.parse_clock("") is None and schedule.parse_clock("21:30") == time(21, 30)


def test_an_unknown_time_zone_falls_back_to_the_default() -> None:
    assert schedule.zone("Mars/Olympus", "Europe/Berlin") == BERLIN
    assert schedule.zone(None) == ZoneInfo("UTC")


# -- backoff ----------------------------------------------------------------------------------


def test_backoff_doubles_per_attempt_up_to_the_cap() -> None:
    delays = [schedule.backoff(n, 30, 3600, jitter=0) for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_backoff_jitter_stays_within_its_band() -> None:
    rng = random.Random(7)
    delays = [schedule.backoff(3, 10, 3600, rng=rng) for _ in range(200)]
    assert all(32 <= d <= 48 for d in delays) and len(set(delays)) > 100


def _item(**kw):
    return SimpleNamespace(
        **{"status": "sending", "attempts": 2, "attempts_before_requeue": 0, "status_reason": None} | kw
    )


def _settle(item, attempt, **kw):
    args = {"number": 2, "ok": False, "permanent": False, "status_code": 503, "error": "busy", "done": "sent"}
    return schedule.settle(
        item,
        attempt,
        **(args | kw),
        now=datetime(2026, 12, 2, 8, tzinfo=UTC),
        max_attempts=3,
        backoff_seconds=10,
        backoff_max_seconds=60,
    )


def test_a_failed_attempt_retries_after_backoff_then_the_last_one_is_dead() -> None:
    attempt = SimpleNamespace(outcome=None)
    retried = _item()
    assert _settle(retried, attempt) and retried.status == "retrying"
    assert attempt.outcome == "failed" and attempt.status_code == 503
    assert retried.next_attempt_at > datetime(2026, 12, 2, 8, tzinfo=UTC)
    last = _item(attempts=3)
    assert _settle(last, None, number=3) and last.status == "dead" and last.next_attempt_at is None
    refused = _item()
    assert _settle(refused, None, permanent=True) and refused.status == "dead"
    assert refused.status_reason.startswith("permanent failure")


def test_an_attempt_taken_over_after_its_lease_leaves_the_item_to_the_newer_attempt() -> None:
    attempt = SimpleNamespace(outcome=None)
    taken_over = _item(attempts=3)  # attempt 3 started after attempt 2's lease ran out
    assert not _settle(taken_over, attempt, ok=True)
    assert taken_over.status == "sending" and attempt.outcome == "sent"  # the log still says what happened
