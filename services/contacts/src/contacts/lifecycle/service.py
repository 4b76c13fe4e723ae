"""Lifecycle use cases: the versioned rules, applying them, manual stages. Never commits.

The rules (rules.py) run when an order or contract is recorded, for every customer after a rules
change, and in the worker's daily sweep (silence and lapsed contracts change nothing on the
record). A stage a person sets holds against the rules, with its reason, until the next order or
contract is recorded (a new fact). Every move is audited and announced with
`crm.contact.lifecycle_changed.v1` (source and reason) plus `crm.contact.updated.v1`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activity_records.repository import ActivityRepository
from contacts.audit import service as audit
from contacts.customer_records.models import Customer
from contacts.customer_records.repository import CustomerRepository
from contacts.events.publishers import publish_customer_updated, publish_lifecycle_changed
from contacts.lifecycle.repository import LifecycleRulesRepository
from contacts.lifecycle.rules import DEFAULT_RULES, LifecycleFacts, evaluate
from contacts.lifecycle.schemas import LifecycleRules, LifecycleRulesChange, LifecycleRulesVersion
from crm_shared.contracts.vocabulary import LifecycleStage
from crm_shared.db import utcnow

RULES_ACTOR = "rules"
BATCH_SIZE = 200


async def current_rules(session: AsyncSession) -> LifecycleRulesVersion:
    record = await LifecycleRulesRepository(session).current()
    if record is None:
        return LifecycleRulesVersion(version=0, rules=DEFAULT_RULES, created_by="default", created_at=None)
    return LifecycleRulesVersion.model_validate(record)


async def change_rules(session: AsyncSession, rules: LifecycleRules, *, actor: str) -> LifecycleRulesChange:
    """Stores the next version and applies it to every customer the rules decide, in this transaction."""
    record = await LifecycleRulesRepository(session).add_version(actor, rules=rules.model_dump(mode="json"))
    moved, after, now = 0, None, utcnow()
    while True:
        batch_moved, after = await apply_batch(session, rules, after=after, now=now)
        moved += batch_moved
        if after is None:
            break
    return LifecycleRulesChange(
        version=record.version, rules=rules, created_by=record.created_by, created_at=record.created_at, moved=moved
    )


async def _apply(
    session: AsyncSession, customers: list[Customer], rules: LifecycleRules, now: datetime, *, churn: bool = True
) -> int:
    """Two queries for the batch's facts, then each move; returns how many moved."""
    ids = [c.id for c in customers]
    stats = await LifecycleRulesRepository(session).order_stats(ids)
    terms = await ActivityRepository(session).contract_terms(ids)
    moved = 0
    for customer in customers:
        orders, last_order_at = stats.get(customer.id, (0, None))
        facts = LifecycleFacts(
            stage=LifecycleStage(customer.lifecycle_stage),
            stage_since=customer.lifecycle_changed_at,
            orders=orders,
            last_order_at=last_order_at,
            contracts=terms.get(customer.id, []),
            credit=customer.credit_standing,
            credit_noticed_at=customer.credit_noticed_at,
        )
        decision = evaluate(rules, facts, now, churn=churn)
        if decision is None:
            continue
        previous = customer.lifecycle_stage
        customer.lifecycle_stage = decision.stage.value
        customer.lifecycle_changed_at = customer.updated_at = utcnow()
        customer.version += 1
        audit.record(
            session,
            customer.id,
            actor=RULES_ACTOR,
            action="lifecycle_changed",
            changes={
                "lifecycle_stage": {"from": previous, "to": customer.lifecycle_stage},
                "lifecycle_reason": {"from": None, "to": decision.reason},
            },
        )
        await publish_customer_updated(session, customer, ["lifecycle_stage"])
        await publish_lifecycle_changed(session, customer, previous=previous, source="rules", reason=decision.reason)
        moved += 1
    return moved


async def apply_batch(
    session: AsyncSession,
    rules: LifecycleRules,
    *,
    after: uuid.UUID | None,
    now: datetime,
    only: Sequence[uuid.UUID] | None = None,
) -> tuple[int, uuid.UUID | None]:
    """The rules on the next BATCH_SIZE customers after `after` (locked until commit); returns how
    many moved and where to go on (None: that was the last batch)."""
    batch = await LifecycleRulesRepository(session).customers_ruled(after=after, limit=BATCH_SIZE, only=only)
    if not batch:
        return 0, None
    return await _apply(session, batch, rules, now), batch[-1].id


async def after_activity(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    """An order or contract was recorded: a new fact ends a stage held by hand, then the rules run."""
    customer = await CustomerRepository(session).get_for_update(customer_id)
    if customer is None or customer.status != "active":
        return False
    customer.lifecycle_override_at = customer.lifecycle_override_by = customer.lifecycle_override_reason = None
    rules = (await current_rules(session)).rules
    return await _apply(session, [customer], rules, utcnow(), churn=False) > 0


def set_by_hand(customer: Customer, reason: str | None, actor: str) -> None:
    """A person moved the stage (PATCH): it holds against the rules, with its reason."""
    customer.lifecycle_override_reason = reason or "set by hand"
    customer.lifecycle_override_by = actor
    customer.lifecycle_override_at = customer.lifecycle_changed_at = customer.updated_at
