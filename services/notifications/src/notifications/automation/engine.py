"""Runs the playbooks for each consumed event: match the triggers, run the actions.

The enabled playbooks live in memory, compiled once per change: an event that stems from another
event costs one small query (the playbooks' version number, read in the event's own transaction,
and whether the event stems from a playbook's own task) and nothing else until a playbook
matches; an event with no causation (a complaint taken by the api) costs none while no playbook
changed (notifications.changes: the `playbook_state` trigger NOTIFYs channel `playbooks`). A
change through the API bumps the version, and the next event reloads.

Loops: task events (crm.outreach) are not consumed at all, and an event whose causation id is
an event of playbook P's task (or an event caused by one, recorded in `playbook_effects`) does
not trigger P again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.envelope import Envelope
from crm_shared.projections import get_customer
from notifications.automation.executors import EXECUTORS
from notifications.changes import ChangeWatch
from notifications.playbooks import rules
from notifications.playbooks.repository import PlaybookRepository
from notifications.playbooks.schemas import PlaybookDefinition
from notifications.playbooks.service import in_force

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompiledAction:
    kind: str
    key: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CompiledPlaybook:
    key: str
    definition: PlaybookDefinition
    actions: tuple[CompiledAction, ...]
    # Whether a condition reads a fact only the customer projection may supply (the tier).
    needs_customer: bool = False

    def matches(self, facts: dict[str, Any]) -> bool:
        return self.definition.trigger.matches(facts)


def compile_playbooks(playbooks: dict[str, PlaybookDefinition]) -> dict[str, list[CompiledPlaybook]]:
    """Enabled playbooks by trigger event type, in key order (so tasks are made in a stable order)."""
    by_event: dict[str, list[CompiledPlaybook]] = {}
    for key in sorted(playbooks):
        definition = playbooks[key]
        if not definition.enabled:
            continue
        actions = tuple(
            CompiledAction(a.kind, f"{key}:{i}", a.model_dump(mode="json")) for i, a in enumerate(definition.actions)
        )
        needs_customer = any(c.on in rules.CUSTOMER_FACTS for c in definition.trigger.conditions)
        by_event.setdefault(definition.trigger.event, []).append(
            CompiledPlaybook(key, definition, actions, needs_customer)
        )
    return by_event


def _uuid(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class PlaybookEngine:
    """One per worker process."""

    def __init__(self) -> None:
        self.version: int | None = None
        self.by_event: dict[str, list[CompiledPlaybook]] = {}

    async def _playbooks(self, session: AsyncSession, event: Envelope) -> tuple[list[CompiledPlaybook], list[str]]:
        causation_id = _uuid(event.causationid)
        if causation_id is None and self.version is not None and PLAYBOOK_CHANGES.fresh():
            # No playbook changed since the version was read: nothing to ask the database.
            return self.by_event.get(rules.canonical_type(event.type), []), []
        PLAYBOOK_CHANGES.reading()
        version, caused_by = await PlaybookRepository(session).state(causation_id)
        if version != self.version:
            definitions = {key: definition for key, (definition, _) in (await in_force(session)).items()}
            self.by_event = compile_playbooks(definitions)
            self.version = version
            log.info("playbooks loaded", extra={"version": version, "count": len(definitions)})
        return self.by_event.get(rules.canonical_type(event.type), []), caused_by

    async def handle(self, session: AsyncSession, event: Envelope) -> None:
        candidates, caused_by = await self._playbooks(session, event)
        if caused_by:
            # Its descendants stay off those playbooks too, however many hops they take.
            await PlaybookRepository(session).add_effects(event.id, caused_by)
            candidates = [p for p in candidates if p.key not in caused_by]
        if not candidates:
            return
        about_nobody = event.type in rules.NO_CUSTOMER  # an alert or a theme: its subject is no customer id
        carries = about_nobody or event.type in rules.CARRIES_CUSTOMER
        # The projection is read before matching only when a condition needs its tier; otherwise
        # only when a playbook matched (its actions get the customer).
        looked_up = not carries and any(p.needs_customer for p in candidates)
        customer = await get_customer(session, uuid.UUID(event.subject)) if looked_up else None
        facts = rules.facts_of(event, customer)
        matched = [p for p in candidates if p.matches(facts)]
        if not matched:
            return
        if not carries and not looked_up:
            customer = await get_customer(session, uuid.UUID(event.subject))
        elif not about_nobody and carries and any(a.kind != "create_task" for p in matched for a in p.actions):
            customer = await get_customer(session, uuid.UUID(event.subject))
        for playbook in matched:
            for action in playbook.actions:
                executor = EXECUTORS.get(action.kind)
                if executor is None:
                    log.warning(
                        "no executor for playbook action, skipped",
                        extra={"playbook": playbook.key, "action": action.key, "kind": action.kind},
                    )
                    continue
                await executor(
                    session,
                    event,
                    playbook=playbook.key,
                    action_key=action.key,
                    customer=customer,
                    params=action.params,
                )


# The `playbook_state` trigger NOTIFYs channel `playbooks` when a change bumps the version.
PLAYBOOK_CHANGES = ChangeWatch("playbooks")
# The background loop the notifications worker runs (crm_shared.worker.Background).
playbook_watch = PLAYBOOK_CHANGES.loop
ENGINE = PlaybookEngine()


async def on_trigger_event(session: AsyncSession, event: Envelope) -> None:
    """The consumer handler for every event type a playbook can trigger on."""
    await ENGINE.handle(session, event)
