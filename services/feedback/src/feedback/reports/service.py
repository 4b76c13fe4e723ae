"""Complaint counts and recurring themes for management (docs/domain.md#recurring-themes-go-to-management):
a complaint speaks for many silent customers, so what recurs is escalated, not just what is loud."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.contracts.events import FeedbackReceivedV1
from crm_shared.contracts.vocabulary import FeedbackType
from crm_shared.db import utcnow
from crm_shared.http.problems import ValidationFailed
from feedback.events.publishers import publish_theme_escalated
from feedback.reports.repository import ReportRepository
from feedback.reports.schemas import Bucket, ComplaintCounts, GroupBy, Interval, ReportWindow, Theme, Themes

MAX_BUCKETS = 400
# Feedback is recorded now; the bounds keep "the period before" computable (and PostgreSQL happy).
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
INTERVAL_DAYS = {Interval.day: 1, Interval.week: 7, Interval.month: 31}
# A theme goes to management when this many different customers raised it in the period and it
# is not shrinking against the period before.
ESCALATE_CUSTOMERS = 3
# The window a complaint is escalated over as it arrives (against the window before), and how long
# an escalated theme stays quiet before it may go to management again.
ESCALATION_WINDOW = timedelta(days=30)


def _period(window: ReportWindow) -> tuple[datetime, datetime]:
    until = window.until or datetime.now(UTC)
    for field, value in (("since", window.since), ("until", until)):
        if value.tzinfo is None:
            raise ValidationFailed(field, "give a time zone, e.g. 2026-10-01T00:00:00Z", "naive_datetime")
    if window.since >= until:
        raise ValidationFailed("since", "must be before until", "empty_period")
    for field, value in (("since", window.since), ("until", until)):
        if not EARLIEST <= value <= LATEST:
            raise ValidationFailed(field, f"must lie between {EARLIEST:%Y} and {LATEST:%Y}", "out_of_range")
    return window.since, until


async def complaint_counts(
    session: AsyncSession, window: ReportWindow, group_by: GroupBy, interval: Interval
) -> ComplaintCounts:
    since, until = _period(window)
    if (until - since) / timedelta(days=INTERVAL_DAYS[interval]) > MAX_BUCKETS:
        raise ValidationFailed("interval", f"more than {MAX_BUCKETS} periods: choose a longer interval", "too_many")
    buckets: dict[datetime, Bucket] = {}
    totals: dict[str, int] = {}
    for period, key, count in await ReportRepository(session).complaint_counts(group_by, interval, since, until):
        bucket = buckets.setdefault(period, Bucket(period_start=period, counts={}, total=0))
        bucket.counts[key] = count
        bucket.total += count
        totals[key] = totals.get(key, 0) + count
    return ComplaintCounts(
        group_by=group_by, interval=interval, since=since, until=until, buckets=list(buckets.values()), totals=totals
    )


async def recurring_themes(session: AsyncSession, window: ReportWindow, limit: int) -> Themes:
    since, until = _period(window)
    repository = ReportRepository(session)
    top = await repository.top_themes(since, until, limit)
    before = await repository.theme_counts([(c, p) for c, p, _, _ in top], since - (until - since), since)
    themes = []
    for category, product, complaints, customers in top:
        previous = before.get((category, product), 0)
        themes.append(
            Theme(
                category=category,
                product=product,
                complaints=complaints,
                customers=customers,
                previous_period=previous,
                change_percent=round((complaints - previous) * 100 / previous, 1) if previous else None,
                escalate=customers >= ESCALATE_CUSTOMERS and complaints >= previous,
            )
        )
    return Themes(since=since, until=until, themes=themes)


def escalates(customers: int, complaints: int, previous: int) -> bool:
    """What recurs across customers and is not shrinking (docs/domain.md#recurring-themes-go-to-management)."""
    return customers >= ESCALATE_CUSTOMERS and complaints >= previous


async def escalate_recurring_theme(session: AsyncSession, event: Envelope) -> None:
    """Each complaint checks its theme over the last 30 days: once it escalates, management hears of
    it (`crm.feedback.theme_escalated.v1`, which a notifications playbook turns into a task), at most
    once per 30 days per theme, however many complaints follow. A redelivered event finds the theme
    already escalated and publishes nothing."""
    complaint = event.payload()
    assert isinstance(complaint, FeedbackReceivedV1)
    if complaint.type is not FeedbackType.complaint or complaint.category is None:
        return
    repository = ReportRepository(session)
    product = await repository.product_of(complaint.feedback_id)
    now = utcnow()
    since = now - ESCALATION_WINDOW
    complaints, customers = await repository.theme_stats(complaint.category, product, since, now + timedelta(seconds=1))
    before, previous = await repository.theme_stats(complaint.category, product, since - ESCALATION_WINDOW, since)
    if not escalates(customers, complaints, before):
        return
    fresh = await repository.mark_escalated(
        complaint.category, product, now=now, quiet_since=since, customers=customers, complaints=complaints
    )
    if fresh:
        await publish_theme_escalated(
            session,
            category=complaint.category,
            product=product,
            customers=customers,
            complaints=complaints,
            previous_customers=previous,
            period=(since, now),
        )
