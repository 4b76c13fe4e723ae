"""All queries on feedback."""

from __future__ import annotations

import builtins  # the repository's own `list` method shadows the builtin in its annotations
import uuid
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from crm_shared.db import Prebuilt, Repository
from crm_shared.projections import in_reach
from feedback.records.models import Feedback

_COLUMNS = [c.name for c in Feedback.__table__.columns]
# A second insert of the same (source_system, external_ref) does nothing instead of failing: it
# waits for a concurrent first insert to commit, so exactly one of them stores the row.
# Public for the SLA clocks, which a case inserts in the same statement (feedback/sla/repository.py).
INSERT_FEEDBACK = _INSERT = (
    insert(Feedback.__table__)
    .values({c: bindparam(c) for c in _COLUMNS})
    .on_conflict_do_nothing()
    .returning(Feedback.__table__.c.id)
)
_PREBUILT_INSERT = Prebuilt(_INSERT)  # run on the driver connection (crm_shared.db.Prebuilt)
# The same expression as the unique index `ux_feedback_source_ref`, so the lookup uses it.
_BY_SOURCE_REF = select(Feedback).where(
    func.coalesce(Feedback.source_system, "") == bindparam("source_system"),
    Feedback.external_ref == bindparam("external_ref"),
)
ERASED_TEXT = "[erased]"


def insert_params(feedback: Feedback) -> dict[str, object]:
    """The row's values for `INSERT_FEEDBACK`."""
    return {c: getattr(feedback, c) for c in _COLUMNS}


class FeedbackRepository(Repository):
    async def add(self, feedback: Feedback) -> bool:
        """Insert with a statement built once: this is the hot path of every complaint. False: the
        same source reference was stored first (by a concurrent request); `by_source_ref` finds it."""
        return await _PREBUILT_INSERT.fetchrow(self.session, insert_params(feedback)) is not None

    async def by_source_ref(self, source_system: str | None, external_ref: str) -> Feedback | None:
        params = {"source_system": source_system or "", "external_ref": external_ref}
        return (await self.session.scalars(_BY_SOURCE_REF, params)).first()

    async def get(self, feedback_id: uuid.UUID) -> Feedback | None:
        """The feedback, if its customer is within the caller's reach (crm_shared.access)."""
        if self.reach.every_customer:
            return await self.session.get(Feedback, feedback_id)
        query = select(Feedback).where(Feedback.id == feedback_id, in_reach(self.reach, Feedback.customer_id))
        return (await self.session.scalars(query)).first()

    async def list(
        self,
        *,
        customer_id: uuid.UUID | None,
        type: str | None,
        limit: int,
        before: tuple[datetime, uuid.UUID] | None,
        unmatched: bool | None = None,
        external_ref: str | None = None,
    ) -> list[Feedback]:
        query = select(Feedback).where(in_reach(self.reach, Feedback.customer_id))
        if unmatched is not None:
            query = query.where(Feedback.customer_id.is_(None) if unmatched else Feedback.customer_id.is_not(None))
        if external_ref:
            query = query.where(Feedback.external_ref == external_ref)
        if customer_id:
            query = query.where(Feedback.customer_id == customer_id)
        if type:
            query = query.where(Feedback.type == type)
        if before:
            query = query.where(tuple_(Feedback.received_at, Feedback.id) < tuple_(*before))
        query = query.order_by(Feedback.received_at.desc(), Feedback.id.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def move_customer(self, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
        await self.session.execute(update(Feedback).where(Feedback.customer_id == from_id).values(customer_id=to_id))

    async def erase_free_text(self, customer_ids: builtins.list[uuid.UUID]) -> None:
        """What the customer said, and the source system's reference that leads back to it, go;
        type, category, severity, channel, tier and dates stay for reporting."""
        await self.session.execute(
            update(Feedback)
            .where(Feedback.customer_id.in_(customer_ids))
            .values(description=ERASED_TEXT, external_ref=None, caller_email=None, caller_phone=None)
        )

    async def erase_unmatched(self, identifiers: builtins.list[str]) -> None:
        """Unmatched feedback left by the erased customer's email or phone: it is theirs, though it
        never reached their record, so its text and identifiers go the same way."""
        if not identifiers:
            return
        await self.session.execute(
            update(Feedback)
            .where(
                Feedback.customer_id.is_(None),
                or_(Feedback.caller_email.in_(identifiers), Feedback.caller_phone.in_(identifiers)),
            )
            .values(description=ERASED_TEXT, external_ref=None, caller_email=None, caller_phone=None)
        )

    async def attach_unmatched(
        self, *, customer_id: uuid.UUID, tier: str, email: str | None, phone: str | None
    ) -> builtins.list[Feedback]:
        """Gives waiting feedback its customer and drops the caller's copied identifiers. The
        `customer_id IS NULL` condition is re-checked under the row lock, so a row handled by two
        events at once (created, then updated) is attached, and announced, once."""
        matches = []
        if email:
            matches.append(Feedback.caller_email == email)
        if phone:
            matches.append(Feedback.caller_phone == phone)
        if not matches:
            return []
        attached = await self.session.scalars(
            update(Feedback)
            .where(Feedback.customer_id.is_(None), or_(*matches))
            .values(customer_id=customer_id, customer_tier=tier, caller_email=None, caller_phone=None)
            .returning(Feedback)
            .execution_options(synchronize_session=False)
        )
        return list(attached.all())
