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
from feedback.cases import transitions
from feedback.events.publishers import publish_theme_escalated
from feedback.reports.repository import QualityRepository, ReportRepository
from feedback.reports.schemas import (
    Bucket,
    CausePareto,
    ComplaintCounts,
    GroupBy,
    Interval,
    ParetoBar,
    ParetoSegment,
    RecoveryIndicators,
    RecoveryRow,
    ReportWindow,
    RequestCounts,
    RequestRow,
    Theme,
    Themes,
)

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


def _done_pairs() -> list[tuple[str, str]]:
    return [(kind.value, status.value) for kind, statuses in transitions.DONE.items() for status in statuses]


async def request_counts(session: AsyncSession, window: ReportWindow, group_by: GroupBy | None) -> RequestCounts:
    since, until = _period(window)
    rows = await QualityRepository(session).request_counts(group_by, since, until, _done_pairs())
    return RequestCounts(
        since=since,
        until=until,
        group_by=group_by,
        rows=[RequestRow(type=t, group=g, received=n, done=d, open=n - d, sla_breached=b) for t, g, n, d, b in rows],
    )


# The Pareto rule: the few causes that together explain this share of the complaints come first.
VITAL_FEW_PERCENT = 80.0


async def cause_pareto(session: AsyncSession, window: ReportWindow, by: GroupBy | None) -> CausePareto:
    since, until = _period(window)
    grouped: dict[str, list[tuple[str, str, int]]] = {}
    for segment, code, label, count in await QualityRepository(session).cause_counts(by, since, until):
        grouped.setdefault(segment, []).append((code, label, count))
    segments = []
    for segment, causes in grouped.items():
        total = sum(count for _, _, count in causes)
        bars, cumulative = [], 0.0
        for code, label, count in sorted(causes, key=lambda c: (-c[2], c[0])):
            before = cumulative
            cumulative += count * 100 / total
            bars.append(
                ParetoBar(
                    cause_code=code,
                    label=label,
                    complaints=count,
                    percent=round(count * 100 / total, 1),
                    cumulative_percent=round(cumulative, 1),
                    vital_few=before < VITAL_FEW_PERCENT,
                )
            )
        segments.append(ParetoSegment(segment=segment, complaints=total, causes=bars))
    segments.sort(key=lambda s: (-s.complaints, s.segment))
    return CausePareto(since=since, until=until, by=by, segments=segments)


async def recovery_indicators(
    session: AsyncSession, window: ReportWindow, group_by: GroupBy | None
) -> RecoveryIndicators:
    since, until = _period(window)
    rows = []
    for group, resolved, reopened, compensated, paid, mean, median in await QualityRepository(session).recovery(
        group_by, since, until
    ):
        rows.append(
            RecoveryRow(
                group=group,
                resolved=resolved,
                reopened=reopened,
                reopen_rate=round(reopened * 100 / resolved, 1) if resolved else None,
                compensated=compensated,
                compensation_paid=paid,
                awaiting_payment=compensated - paid,
                mean_days_to_compensation=round(mean, 1) if mean is not None else None,
                median_days_to_compensation=median,
            )
        )
    return RecoveryIndicators(since=since, until=until, group_by=group_by, rows=rows)


def escalates(customers: int, complaints: int, previous: int) -> bool:
    """What recurs across customers and is not shrinking (docs/domain.md#recurring-themes-go-to-management)."""
    return customers >= ESCALATE_CUSTOMERS and complaints >= previous


async def escalate_recurring_theme(session: AsyncSession, event: Envelope) -> None:
    """Each complaint checks its theme over the last 30 days: once it escalates, management hears of
    it (`crm.feedback.theme_escalated.v1`, which a notifications playbook turns into a task), at most
    once per 30 days per theme, however many complaints follow. A redelivered event finds the theme
    already escalated and publishes nothing.

    A theme escalated within the last 30 days cannot go to management again, whatever the counts:
    that is the common case of a recurring theme, answered by one indexed lookup (the complaint's
    product and its theme's last escalation) without counting anything."""
    complaint = event.payload()
    assert isinstance(complaint, FeedbackReceivedV1)
    if complaint.type is not FeedbackType.complaint or complaint.category is None:
        return
    repository = ReportRepository(session)
    now = utcnow()
    since = now - ESCALATION_WINDOW
    theme = await repository.theme_of(complaint.feedback_id, complaint.category)
    if theme is None:
        product, escalated_at = None, await repository.escalated_at(complaint.category, None)
    else:
        product, escalated_at = theme
    if escalated_at is not None and escalated_at >= since:
        return  # mark_escalated would refuse it: still within its quiet window
    complaints, customers, before, previous = await repository.theme_windows(
        complaint.category, product, since - ESCALATION_WINDOW, since, now + timedelta(seconds=1)
    )
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
