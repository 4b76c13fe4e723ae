"""Playbook use cases: the rules in force (defaults overlaid by stored versions), and changing them."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.http.problems import NotFound, ValidationFailed
from notifications.config import Settings
from notifications.outbound.targets import configured_guard
from notifications.playbooks.defaults import DEFAULT_PLAYBOOKS
from notifications.playbooks.models import PlaybookVersion
from notifications.playbooks.repository import PlaybookRepository
from notifications.playbooks.schemas import (
    CallWebhookAction,
    PlaybookDefinition,
    PlaybookHistory,
    PlaybookList,
    PlaybookRead,
    PlaybookVersionRead,
)

log = logging.getLogger(__name__)

BUILTIN_AUTHOR = "default"


def _read(key: str, definition: PlaybookDefinition, record: PlaybookVersion | None) -> PlaybookRead:
    return PlaybookRead(
        key=key,
        version=record.version if record else 0,
        builtin=key in DEFAULT_PLAYBOOKS,
        description=definition.description,
        enabled=definition.enabled,
        trigger=definition.trigger,
        actions=definition.actions,
        created_by=record.created_by if record else BUILTIN_AUTHOR,
        created_at=record.created_at if record else None,
    )


async def in_force(session: AsyncSession) -> dict[str, tuple[PlaybookDefinition, PlaybookVersion | None]]:
    """Every playbook by key (enabled or not), deleted ones left out."""
    playbooks: dict[str, tuple[PlaybookDefinition, PlaybookVersion | None]] = {
        key: (definition, None) for key, definition in DEFAULT_PLAYBOOKS.items()
    }
    for record in await PlaybookRepository(session).current_all():
        if record.deleted:
            playbooks.pop(record.key, None)
        elif (definition := _stored(record)) is not None:
            playbooks[record.key] = (definition, record)
    return playbooks


def _stored(record: PlaybookVersion) -> PlaybookDefinition | None:
    """A stored version that no longer validates (written by an older release) is left out, loudly,
    instead of stopping every other playbook."""
    try:
        return PlaybookDefinition.model_validate(record.definition)
    except ValidationError:
        log.exception("stored playbook no longer valid, ignored", extra={"key": record.key, "version": record.version})
        return None


async def list_playbooks(session: AsyncSession) -> PlaybookList:
    playbooks = await in_force(session)
    return PlaybookList(items=[_read(key, *playbooks[key]) for key in sorted(playbooks)])


async def get_playbook(session: AsyncSession, key: str) -> PlaybookRead:
    record = await PlaybookRepository(session).current(key)
    if record is None:
        if key not in DEFAULT_PLAYBOOKS:
            raise NotFound("Playbook", key)
        return _read(key, DEFAULT_PLAYBOOKS[key], None)
    definition = None if record.deleted else _stored(record)
    if definition is None:
        raise NotFound("Playbook", key)
    return _read(key, definition, record)


async def _store(session: AsyncSession, key: str, definition: dict | None, actor: str) -> PlaybookVersion:
    # The lock bumps the state row: changes take turns and every worker reloads.
    return await PlaybookRepository(session).add_version(
        actor, key, definition=definition or {}, deleted=definition is None
    )


def _refuse_private_targets(body: PlaybookDefinition, settings: Settings) -> None:
    """A `call_webhook` to a visibly private address (the webhooks' SSRF guard) is refused now;
    a name that resolves inside is refused at each send."""
    guard = configured_guard(settings)
    for index, action in enumerate(body.actions):
        if isinstance(action, CallWebhookAction) and (refused := guard.refusal_of_url(str(action.url))) is not None:
            raise ValidationFailed(f"actions[{index}].url", refused, "private_target")


async def put_playbook(
    session: AsyncSession, key: str, body: PlaybookDefinition, *, actor: str, settings: Settings
) -> PlaybookRead:
    _refuse_private_targets(body, settings)
    record = await _store(session, key, body.model_dump(mode="json"), actor)
    return _read(key, body, record)


async def delete_playbook(session: AsyncSession, key: str, *, actor: str) -> None:
    await get_playbook(session, key)  # 404 for an unknown or already deleted key
    await _store(session, key, None, actor)


async def playbook_history(session: AsyncSession, key: str) -> PlaybookHistory:
    records = list(reversed(await PlaybookRepository(session).history(key)))  # oldest first
    if not records and key not in DEFAULT_PLAYBOOKS:
        raise NotFound("Playbook", key)
    items = []
    if key in DEFAULT_PLAYBOOKS:
        items.append(
            PlaybookVersionRead(
                key=key,
                version=0,
                deleted=False,
                definition=DEFAULT_PLAYBOOKS[key].model_dump(mode="json"),
                created_by=BUILTIN_AUTHOR,
                created_at=None,
            )
        )
    items += [
        PlaybookVersionRead(
            key=r.key,
            version=r.version,
            deleted=r.deleted,
            definition=None if r.deleted else r.definition,
            created_by=r.created_by,
            created_at=r.created_at,
        )
        for r in records
    ]
    return PlaybookHistory(items=items)
