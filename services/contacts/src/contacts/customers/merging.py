"""Merging two records of one customer. Never commits: the request boundary does.

The merged record stays as a redirect (status `merged`, `merged_into`) instead of being deleted:
ids already handed out (other services, call-centre systems, bookmarks) keep working.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from contacts.activities.service import move_activities
from contacts.audit import service as audit
from contacts.customer_records.models import Customer
from contacts.customer_records.repository import CustomerRepository
from contacts.customers.duplicates import FILLED_WHEN_EMPTY, absorb
from contacts.customers.fields import AUDITED_FIELDS, audited_value, ensure_writable
from contacts.events.publishers import publish_customer_merged, publish_customer_updated
from contacts.tiers import service as tiering
from crm_shared.db import utcnow
from crm_shared.http.problems import Conflict, NotFound, ProblemError, ValidationFailed


def _merged_id_problem(message: str, code: str) -> ProblemError:
    return ValidationFailed("merged_id", message, code)


def _reason(reason: str | None) -> dict[str, str]:
    return {"reason": reason} if reason else {}


async def merge_customers(
    session: AsyncSession, survivor_id: uuid.UUID, merged_id: uuid.UUID, *, actor: str, reason: str | None
) -> Customer:
    """Folds `merged_id` into `survivor_id`; the survivor keeps every identifier of both.

    Merging a record into where it already leads is a no-op (a retry without Idempotency-Key).
    """
    if survivor_id == merged_id:
        raise _merged_id_problem("a customer cannot be merged into itself", "same_customer")
    repository = CustomerRepository(session)
    locked = await repository.lock([survivor_id, merged_id])
    survivor, merged = locked.get(survivor_id), locked.get(merged_id)
    if survivor is None:
        raise NotFound("Customer", survivor_id)
    if merged is None:
        raise _merged_id_problem(f"customer {merged_id} does not exist", "unknown_customer")
    if survivor.status == "merged":
        final = await repository.final_survivor(survivor.id)
        ensure_writable(survivor, final.id if final else None)
    ensure_writable(survivor)
    if merged.status == "merged":
        final = await repository.final_survivor(merged.id)
        if final is not None and final.id == survivor.id:
            return survivor
        where = final.id if final else merged.merged_into
        raise ProblemError(
            409,
            "Customer merged",
            f"Customer {merged_id} was already merged into {where}.",
            type="customer-merged",
            survivor_id=str(where),
        )
    if merged.status == "erased":
        raise ProblemError(
            409,
            "Customer erased",
            f"Customer {merged_id} was erased: there is nothing left to merge.",
            type="customer-erased",
        )
    if merged.kind != survivor.kind:
        raise _merged_id_problem(f"a {merged.kind} cannot be merged into a {survivor.kind}", "kind_mismatch")

    people = await repository.people_of(merged.id) if merged.kind == "organisation" else []
    clashes = []
    for person in people:
        clashes += [(person, namesake) for namesake in await repository.people_named(survivor.id, person.name)]
    if clashes:
        raise Conflict(
            "People of both organisations share a name: merge each pair first (the survivor keeps one "
            "record per name), then merge the organisations.",
            clashes=[{"merged_person": str(p.id), "survivor_person": str(n.id), "name": p.name} for p, n in clashes],
        )

    now = utcnow()
    before = {f: audited_value(survivor, f) for f in AUDITED_FIELDS}
    merged_before = {f: audited_value(merged, f) for f in ("email", "phone", "external_ids")}
    email, phone = merged.email, merged.phone
    # The merged record gives up its identifiers before the survivor takes them (unique indexes).
    merged.email = merged.phone = None
    await repository.flush()
    await repository.move_identifiers(merged, survivor)
    incoming = {
        name: getattr(merged, name) for name in (*FILLED_WHEN_EMPTY, "strategic", "tags", "consent", "attributes")
    }
    added = await absorb(
        repository, survivor, incoming, email=email, phone=phone, external_ids=[], merged_from=merged.id
    )
    await repository.repoint_aliases(merged.id, survivor.id)
    merged.status = "merged"
    merged.merged_into = survivor.id
    merged.version += 1
    merged.updated_at = now

    for person in people:
        person.organisation_id = survivor.id
        person.version += 1
        person.updated_at = now
        audit.record(
            session,
            person.id,
            actor=actor,
            action="organisation_merged",
            changes={"organisation_id": {"from": merged.id, "to": survivor.id}},
        )
    await move_activities(session, merged.id, survivor.id)

    changed = [f for f in AUDITED_FIELDS if audited_value(survivor, f) != before[f]]
    survivor_changes = {f: {"from": before[f], "to": audited_value(survivor, f)} for f in changed}
    if added:
        survivor_changes["secondary_identifiers"] = {"from": None, "to": added}
    audit.record(
        session,
        survivor.id,
        actor=actor,
        action="merged",
        changes={"merged_id": {"from": None, "to": merged.id}, **_reason(reason), **survivor_changes},
    )
    audit.record(
        session,
        merged.id,
        actor=actor,
        action="merged",
        changes={
            "status": {"from": "active", "to": "merged"},
            "merged_into": {"from": None, "to": survivor.id},
            **_reason(reason),
            **{f: {"from": v, "to": audited_value(merged, f)} for f, v in merged_before.items() if v},
        },
    )
    if survivor_changes:
        survivor.version += 1
        survivor.updated_at = now
    await repository.flush()

    await publish_customer_merged(session, survivor, merged.id, now)
    if survivor_changes:
        await publish_customer_updated(session, survivor, sorted(survivor_changes))
    for person in people:
        await publish_customer_updated(session, person, ["organisation_id"])
    # The survivor's orders and contracts just grew: the tier rules may move it.
    await tiering.reevaluate(session, survivor)
    return survivor
