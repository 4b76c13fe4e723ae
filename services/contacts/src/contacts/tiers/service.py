"""Tier use cases: the versioned rules, re-evaluation, manual overrides. Never commits.

A tier is either the rules' (re-evaluated when orders, contracts, strategic/potential or the
rules change) or a person's (an override with a reason, which the rules never touch until it
is removed). Every change is audited and announced with `crm.contact.tier_changed.v1` plus
`crm.contact.updated.v1`, so the other services' customer projections follow.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activity_records.repository import ActivityRepository
from contacts.audit import service as audit
from contacts.customer_records.models import Customer
from contacts.customer_records.repository import CustomerRepository
from contacts.events.publishers import (
    publish_credit_changed,
    publish_customer_updated,
    publish_lifecycle_changed,
    publish_tier_changed,
)
from contacts.tiers.repository import TierRulesRepository
from contacts.tiers.rules import DEFAULT_RULES, TierDecision, TierFacts, evaluate, months_before
from contacts.tiers.schemas import (
    TierOverrideSet,
    TierRules,
    TierRulesChange,
    TierRulesVersion,
    TierRulesVersionPage,
    TierStatus,
)
from crm_shared.contracts.vocabulary import Tier
from crm_shared.db import utcnow
from crm_shared.http.pagination import decode_cursor, encode_cursor
from crm_shared.http.problems import Conflict, NotFound, ProblemError, ValidationFailed

RULES_ACTOR = "rules"
BATCH_SIZE = 200
# Orders are accepted up to a day ahead (source clocks drift); they count at once.
_ORDER_CLOCK_TOLERANCE = timedelta(days=1)


# --- the rules ------------------------------------------------------------------------------


async def current_rules(session: AsyncSession) -> TierRulesVersion:
    record = await TierRulesRepository(session).current()
    if record is None:
        return TierRulesVersion(version=0, rules=DEFAULT_RULES, created_by="default", created_at=None)
    return TierRulesVersion.model_validate(record)


async def change_rules(session: AsyncSession, rules: TierRules, *, actor: str) -> TierRulesChange:
    """Stores the next version and re-tiers every customer the rules decide, in this transaction."""
    record = await TierRulesRepository(session).add_version(actor, rules=rules.model_dump(mode="json"))
    retiered = await retier_all(session, rules)
    return TierRulesChange(
        version=record.version,
        rules=rules,
        created_by=record.created_by,
        created_at=record.created_at,
        retiered=retiered,
    )


async def rules_versions(session: AsyncSession, *, limit: int, cursor: str | None) -> TierRulesVersionPage:
    below = None
    if cursor:
        [raw] = decode_cursor(cursor, 1)
        if not raw.isdigit():
            raise ProblemError(400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor")
        below = int(raw)
    rows = await TierRulesRepository(session).history(limit=limit + 1, below=below)
    next_cursor = encode_cursor(rows[limit - 1].version) if len(rows) > limit else None
    return TierRulesVersionPage(
        items=[TierRulesVersion.model_validate(r) for r in rows[:limit]], next_cursor=next_cursor
    )


# --- evaluation -----------------------------------------------------------------------------


async def _facts(
    session: AsyncSession, customers: list[Customer], rules: TierRules, now: datetime
) -> dict[uuid.UUID, TierFacts]:
    """Two queries per batch of customers, whatever its size."""
    ids = [c.id for c in customers]
    activities = ActivityRepository(session)
    volumes = await activities.order_volumes(
        ids, since=months_before(now, rules.order_window_months), until=now + _ORDER_CLOCK_TOLERANCE
    )
    terms = await activities.contract_terms(ids)
    return {
        c.id: TierFacts(
            order_volume=volumes.get(c.id, Decimal(0)),
            contracts=terms.get(c.id, []),
            potential=c.potential,
            strategic=bool(c.strategic),
        )
        for c in customers
    }


async def _set_tier(
    session: AsyncSession,
    customer: Customer,
    tier: Tier,
    *,
    source: Literal["rules", "manual"],
    reason: str,
    actor: str,
    action: str,
    extra_changes: dict[str, Any] | None = None,
) -> None:
    previous = customer.tier
    customer.tier = tier.value
    customer.version += 1
    customer.updated_at = utcnow()
    audit.record(
        session,
        customer.id,
        actor=actor,
        action=action,
        changes={"tier": {"from": previous, "to": customer.tier}, "tier_reason": {"from": None, "to": reason}}
        | (extra_changes or {}),
    )
    await publish_tier_changed(session, customer, previous=previous, source=source, reason=reason)
    await publish_customer_updated(session, customer, ["tier"])


async def reevaluate(session: AsyncSession, customer: Customer, *, rules: TierRules | None = None) -> bool:
    """Applies the rules' tier to a customer locked by the caller; True if the tier moved.

    The merge (after moving activities) and the bulk import call this too.
    """
    if customer.tier_override_at is not None or customer.status != "active":
        return False
    rules = rules or (await current_rules(session)).rules
    now = utcnow()
    decision = evaluate(rules, (await _facts(session, [customer], rules, now))[customer.id], now.date())
    if decision.tier.value == customer.tier:
        return False
    await _set_tier(
        session,
        customer,
        decision.tier,
        source="rules",
        reason=decision.reason,
        actor=RULES_ACTOR,
        action="tier_changed",
    )
    return True


async def reevaluate_customer(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    """`reevaluate` by id (locks the record)."""
    customer = await CustomerRepository(session).get_for_update(customer_id)
    return customer is not None and await reevaluate(session, customer)


async def retier_all(session: AsyncSession, rules: TierRules) -> int:
    """Every customer the rules decide, in batches of BATCH_SIZE (never all of them in memory)."""
    changed, after = 0, None
    while True:
        batch_changed, after = await retier_batch(session, rules, after=after, now=utcnow())
        changed += batch_changed
        if after is None:
            return changed


async def retier_batch(
    session: AsyncSession, rules: TierRules, *, after: uuid.UUID | None, now: datetime
) -> tuple[int, uuid.UUID | None]:
    """Applies the rules to the next BATCH_SIZE customers after `after` (locked until commit, so a
    concurrent sweep finds them already right). Returns how many changed and where to go on
    (None: that was the last batch)."""
    batch = await TierRulesRepository(session).customers_ruled(after=after, limit=BATCH_SIZE)
    if not batch:
        return 0, None
    facts = await _facts(session, batch, rules, now)
    changed = 0
    for customer in batch:
        decision = evaluate(rules, facts[customer.id], now.date())
        if decision.tier.value != customer.tier:
            await _set_tier(
                session,
                customer,
                decision.tier,
                source="rules",
                reason=decision.reason,
                actor=RULES_ACTOR,
                action="tier_changed",
            )
            changed += 1
    await session.flush()
    return changed, batch[-1].id if len(batch) == BATCH_SIZE else None


# --- manual overrides -----------------------------------------------------------------------


def _live(customer: Customer | None, customer_id: uuid.UUID) -> Customer:
    if customer is None:
        raise NotFound("Customer", customer_id)
    if customer.status != "active":
        raise Conflict(f"The customer record is {customer.status}; change the record it now lives on.")
    return customer


async def locked_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    """The live customer, locked until commit (404 if unknown, 409 if merged or erased)."""
    return _live(await CustomerRepository(session).get_for_update(customer_id), customer_id)


async def set_override(session: AsyncSession, customer_id: uuid.UUID, body: TierOverrideSet, *, actor: str) -> Customer:
    customer = await locked_customer(session, customer_id)
    if customer.tier_override_at is not None and (customer.tier, customer.tier_override_reason) == (
        body.tier.value,
        body.reason,
    ):
        return customer  # the same PUT again changes nothing
    reason_change = {"tier_override_reason": {"from": customer.tier_override_reason, "to": body.reason}}
    now = utcnow()
    customer.tier_override_reason, customer.tier_override_by, customer.tier_override_at = body.reason, actor, now
    if body.tier.value != customer.tier:
        await _set_tier(
            session,
            customer,
            body.tier,
            source="manual",
            reason=body.reason,
            actor=actor,
            action="tier_overridden",
            extra_changes=reason_change,
        )
    else:  # the tier stays, but the rules no longer move it
        customer.version += 1
        customer.updated_at = now
        audit.record(session, customer.id, actor=actor, action="tier_overridden", changes=reason_change)
    return customer


async def remove_override(session: AsyncSession, customer_id: uuid.UUID, *, actor: str) -> Customer:
    """Hands the tier back to the rules, which apply at once."""
    customer = await locked_customer(session, customer_id)
    if customer.tier_override_at is None:
        return customer
    audit.record(
        session,
        customer.id,
        actor=actor,
        action="tier_override_removed",
        changes={"tier_override_reason": {"from": customer.tier_override_reason, "to": None}},
    )
    customer.tier_override_reason = customer.tier_override_by = customer.tier_override_at = None
    if not await reevaluate(session, customer):
        customer.version += 1
        customer.updated_at = utcnow()
    return customer


async def tier_status(session: AsyncSession, customer_id: uuid.UUID) -> TierStatus:
    customer = await CustomerRepository(session).get(customer_id)
    if customer is None:
        raise NotFound("Customer", customer_id)
    return await status_of(session, customer)


async def status_of(session: AsyncSession, customer: Customer) -> TierStatus:
    current = await current_rules(session)
    now = utcnow()
    decision = evaluate(current.rules, (await _facts(session, [customer], current.rules, now))[customer.id], now.date())
    return TierStatus(
        customer_id=customer.id,
        tier=Tier(customer.tier),
        overridden=customer.tier_override_at is not None,
        override_reason=customer.tier_override_reason,
        override_by=customer.tier_override_by,
        override_at=customer.tier_override_at,
        rules_tier=decision.tier,
        rules_reason=decision.reason,
        rules_version=current.version,
        version=customer.version,
    )


# --- hooks of the customer use cases --------------------------------------------------------


def decide_initial_tier(
    rules: TierRules,
    customer: Customer | SimpleNamespace,
    *,
    given_tier: Tier | None,
    tier_reason: str | None,
    actor: str,
) -> None:
    """On create: a tier given by hand that differs from the rules' is an override; else the rules decide.

    So a form that always sends `bronze` does not switch the rules off, and a customer entered
    as `gold` from an old system is not demoted by the next rules change. `given_tier` is None
    when the request named no tier. The caller passes the rules, so a bulk import reads them once
    per batch, not per row. `customer` is the record being built (`customers.fields.build_customer`'s
    plain record has the same attributes), so it reads `potential`, `strategic`, `created_at` and
    sets the tier.
    """
    if tier_reason is not None and given_tier is None:
        raise ValidationFailed("tier_reason", "give it together with tier", "unexpected")
    facts = TierFacts(
        order_volume=Decimal(0), contracts=[], potential=customer.potential, strategic=bool(customer.strategic)
    )
    decision: TierDecision = evaluate(rules, facts, utcnow().date())
    if given_tier is not None and given_tier != decision.tier:
        customer.tier_override_reason = tier_reason or "tier given when the record was created"
        customer.tier_override_by = actor
        customer.tier_override_at = customer.created_at or utcnow()
    else:
        customer.tier = decision.tier.value


def take_tier_reason(customer: Customer, values: dict[str, Any]) -> str | None:
    """On PATCH: moving the tier by hand is an override and must say why (`tier_reason`)."""
    reason = values.pop("tier_reason", None)
    if "tier" not in values:
        if reason is not None:
            raise ValidationFailed("tier_reason", "give it together with tier", "unexpected")
        return None
    if values["tier"] != customer.tier and not reason:
        raise ValidationFailed(
            "tier_reason", "required to change the tier by hand (it overrides the tier rules)", "missing"
        )
    return reason


async def customer_changed(
    session: AsyncSession,
    customer: Customer,
    before: dict[str, Any],
    changed: list[str],
    *,
    actor: str,
    tier_reason: str | None,
) -> None:
    """After a PATCH was applied: the override it made, the focused events, the rules it triggers."""
    if "tier" in changed:
        audit.record(
            session,
            customer.id,
            actor=actor,
            action="tier_overridden",
            changes={
                "tier": {"from": before["tier"], "to": customer.tier},
                "tier_override_reason": {"from": customer.tier_override_reason, "to": tier_reason},
            },
        )
        customer.tier_override_reason, customer.tier_override_by = tier_reason, actor
        customer.tier_override_at = customer.updated_at
        await publish_tier_changed(
            session, customer, previous=before["tier"], source="manual", reason=tier_reason or "set by hand"
        )
    if "lifecycle_stage" in changed:
        await publish_lifecycle_changed(
            session, customer, previous=before["lifecycle_stage"], reason=customer.lifecycle_override_reason
        )
    if "credit_standing" in changed:
        if customer.credit_standing == "good":
            customer.credit_noticed_at = None
        elif customer.credit_noticed_at is None:
            customer.credit_noticed_at = customer.updated_at
        await publish_credit_changed(session, customer, previous=before["credit_standing"])
    if {"strategic", "potential"} & set(changed):
        await reevaluate(session, customer)
