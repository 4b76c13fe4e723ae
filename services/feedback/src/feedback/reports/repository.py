"""The report queries: aggregates over the feedback table, computed by PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import and_, bindparam, distinct, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from crm_shared.access import Reach
from crm_shared.db import Repository
from crm_shared.projections import CustomerProjection, in_reach
from feedback.cases.models import StatusChange
from feedback.records.models import Feedback
from feedback.reports.models import ThemeEscalation
from feedback.reports.schemas import GroupBy, Interval
from feedback.resolutions.models import CauseCode, Resolution
from feedback.sla.models import SlaClock

UNKNOWN = "unknown"


def _group_key(group_by: GroupBy) -> Any:
    columns = {
        GroupBy.category: Feedback.category,
        GroupBy.channel: Feedback.channel,
        GroupBy.product: Feedback.product,
        GroupBy.tier: Feedback.customer_tier,  # the tier when the complaint came in
        GroupBy.region: CustomerProjection.region,  # the customer's region now
    }
    return func.coalesce(columns[group_by], literal(UNKNOWN))


def _complaints_between(reach: Reach, since: datetime, until: datetime) -> list[Any]:
    """Complaints in the period, of the customers within the caller's reach (crm_shared.access)."""
    return [
        Feedback.type == "complaint",
        Feedback.received_at >= since,
        Feedback.received_at < until,
        in_reach(reach, Feedback.customer_id),
    ]


# Built once: every complaint the worker consumes asks it (escalate_recurring_theme).
_THEME_OF = (
    select(Feedback.product, ThemeEscalation.escalated_at)
    .outerjoin(
        ThemeEscalation,
        and_(
            ThemeEscalation.category == bindparam("category"),
            ThemeEscalation.product == func.coalesce(Feedback.product, literal("")),
        ),
    )
    .where(Feedback.id == bindparam("feedback_id"))
)


class ReportRepository(Repository):
    async def complaint_counts(
        self, group_by: GroupBy, interval: Interval, since: datetime, until: datetime
    ) -> list[tuple[datetime, str, int]]:
        """(period start, group, count), oldest period first; periods start at UTC midnight."""
        period = func.date_trunc(interval.value, Feedback.received_at, "UTC").label("period")
        key = _group_key(group_by).label("key")
        query = select(period, key, func.count()).where(*_complaints_between(self.reach, since, until))
        if group_by is GroupBy.region:
            query = query.outerjoin(CustomerProjection, CustomerProjection.customer_id == Feedback.customer_id)
        query = query.group_by(period, key).order_by(period, key)
        return [(row[0], row[1], row[2]) for row in (await self.session.execute(query)).all()]

    async def top_themes(self, since: datetime, until: datetime, limit: int) -> list[tuple[str, str | None, int, int]]:
        """(category, product, complaints, distinct customers), most complaints first."""
        query = (
            select(Feedback.category, Feedback.product, func.count(), func.count(distinct(Feedback.customer_id)))
            .where(*_complaints_between(self.reach, since, until), Feedback.category.is_not(None))
            .group_by(Feedback.category, Feedback.product)
            .order_by(func.count().desc(), Feedback.category, Feedback.product)
            .limit(limit)
        )
        # cast: the query leaves out complaints without a category.
        return [(cast(str, row[0]), row[1], row[2], row[3]) for row in (await self.session.execute(query)).all()]

    async def theme_counts(
        self, themes: list[tuple[str, str | None]], since: datetime, until: datetime
    ) -> dict[tuple[str, str | None], int]:
        """Complaints per (category, product) in another period (a NULL product is its own theme)."""
        if not themes:
            return {}
        product = func.coalesce(Feedback.product, literal(""))
        wanted = [(category, product or "") for category, product in themes]
        query = (
            select(Feedback.category, product, func.count())
            .where(*_complaints_between(self.reach, since, until), tuple_(Feedback.category, product).in_(wanted))
            .group_by(Feedback.category, product)
        )
        # cast: only the themes asked for match, and each has a category.
        return {(cast(str, row[0]), row[1] or None): row[2] for row in (await self.session.execute(query)).all()}

    async def theme_windows(
        self, category: str, product: str | None, since: datetime, middle: datetime, until: datetime
    ) -> tuple[int, int, int, int]:
        """(complaints, distinct customers) of one theme in [middle, until), then in [since, middle):
        one scan of the theme's index range (`ix_feedback_complaint_theme`) for both windows."""
        same_product = Feedback.product.is_(None) if product is None else Feedback.product == product
        recent, earlier = Feedback.received_at >= middle, Feedback.received_at < middle
        customer = distinct(Feedback.customer_id)
        query = select(
            func.count().filter(recent),
            func.count(customer).filter(recent),
            func.count().filter(earlier),
            func.count(customer).filter(earlier),
        ).where(*_complaints_between(self.reach, since, until), Feedback.category == category, same_product)
        row = (await self.session.execute(query)).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    async def theme_of(self, feedback_id: Any, category: str) -> tuple[str | None, datetime | None] | None:
        """The complaint's product and when its theme (`category`, that product) last went to
        management (None: never), in one statement; None when there is no such feedback."""
        row = (await self.session.execute(_THEME_OF, {"feedback_id": feedback_id, "category": category})).first()
        return None if row is None else (row[0], row[1])

    async def escalated_at(self, category: str, product: str | None) -> datetime | None:
        query = select(ThemeEscalation.escalated_at).where(
            ThemeEscalation.category == category, ThemeEscalation.product == (product or "")
        )
        return cast(datetime | None, await self.session.scalar(query))

    async def mark_escalated(
        self,
        category: str,
        product: str | None,
        *,
        now: datetime,
        quiet_since: datetime,
        customers: int,
        complaints: int,
    ) -> bool:
        """Records the escalation unless the theme was escalated after `quiet_since`: True when it is
        new. One statement (upsert with a condition), so two workers never both escalate a theme."""
        values = {"escalated_at": now, "customers": customers, "complaints": complaints}
        statement = (
            insert(ThemeEscalation)
            .values(category=category, product=product or "", **values)
            .on_conflict_do_update(
                index_elements=["category", "product"],
                set_=values,
                where=ThemeEscalation.escalated_at < quiet_since,
            )
            .returning(ThemeEscalation.category)
        )
        return (await self.session.execute(statement)).first() is not None


def _segment(group_by: GroupBy | None) -> Any:
    return literal("all") if group_by is None else _group_key(group_by)


def _with_region(query: Any, group_by: GroupBy | None) -> Any:
    if group_by is GroupBy.region:
        return query.outerjoin(CustomerProjection, CustomerProjection.customer_id == Feedback.customer_id)
    return query


class QualityRepository(Repository):
    """The service-quality loop's reports: every request type's cases, causes, recovery."""

    async def request_counts(
        self, group_by: GroupBy | None, since: datetime, until: datetime, done: list[tuple[str, str]]
    ) -> list[tuple[str, str, int, int, int]]:
        """(type, segment, received, done, SLA breached) of the cases received in the period."""
        key = _segment(group_by).label("key")
        is_done = tuple_(Feedback.type, Feedback.status).in_(done)
        breached = (
            select(SlaClock.id).where(SlaClock.feedback_id == Feedback.id, SlaClock.status == "breached").exists()
        )
        query = select(
            Feedback.type,
            key,
            func.count(),
            func.count().filter(is_done),
            func.count().filter(breached),
        ).where(
            Feedback.type.in_([t for t, _ in done]),
            Feedback.received_at >= since,
            Feedback.received_at < until,
        )
        query = _with_region(query, group_by).group_by(Feedback.type, key).order_by(Feedback.type, key)
        return [(r[0], r[1], r[2], r[3], r[4]) for r in (await self.session.execute(query)).all()]

    async def cause_counts(
        self, group_by: GroupBy | None, since: datetime, until: datetime
    ) -> list[tuple[str, str, str, int]]:
        """(segment, cause code, label, complaints) of the complaints resolved in the period."""
        key = _segment(group_by).label("key")
        query = (
            select(key, Resolution.cause_code, CauseCode.label, func.count())
            .select_from(Resolution)
            .join(Feedback, Feedback.id == Resolution.feedback_id)
            .join(CauseCode, CauseCode.code == Resolution.cause_code)
            .where(Resolution.resolved_at >= since, Resolution.resolved_at < until)
        )
        query = _with_region(query, group_by).group_by(key, Resolution.cause_code, CauseCode.label)
        return [(r[0], r[1], r[2], r[3]) for r in (await self.session.execute(query)).all()]

    async def recovery(
        self, group_by: GroupBy | None, since: datetime, until: datetime
    ) -> list[tuple[str, int, int, int, int, float | None, float | None]]:
        """Per segment, of the complaints resolved in the period: (segment, resolved, reopened at
        some point, with compensation, compensation paid, mean and median days from the complaint
        to the payment)."""
        key = _segment(group_by).label("key")
        resolved_in_period = (
            select(StatusChange.id)
            .where(
                StatusChange.feedback_id == Feedback.id,
                StatusChange.to_status == "resolved",
                StatusChange.changed_at >= since,
                StatusChange.changed_at < until,
            )
            .exists()
        )
        reopened = (
            select(StatusChange.id).where(StatusChange.feedback_id == Feedback.id, StatusChange.reopened).exists()
        )
        days = Resolution.compensation_paid_on - func.date(func.timezone("UTC", Feedback.received_at))
        query = (
            select(
                key,
                func.count(),
                func.count().filter(reopened),
                func.count(Resolution.compensation_amount),
                func.count(Resolution.compensation_paid_on),
                func.avg(days),
                func.percentile_cont(0.5).within_group(days),
            )
            .select_from(Feedback)
            .outerjoin(Resolution, Resolution.feedback_id == Feedback.id)
            .where(Feedback.type == "complaint", resolved_in_period)
        )
        query = _with_region(query, group_by).group_by(key).order_by(key)
        return [
            (key, resolved, reopens, compensated, paid, _float(mean), _float(median))
            for key, resolved, reopens, compensated, paid, mean, median in (await self.session.execute(query)).all()
        ]


def _float(value: Any) -> float | None:
    """avg() answers a Decimal, percentile_cont() a float; None when nothing was paid."""
    return None if value is None else float(value)
