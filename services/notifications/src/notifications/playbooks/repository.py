"""All queries on playbooks, their versions and the loop guard."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects.postgresql import UUID, insert

from crm_shared.versioning import VersionedRepository
from notifications.playbooks.models import PlaybookEffect, PlaybookState, PlaybookVersion

_STATE = PlaybookState.__table__
_EFFECTS = PlaybookEffect.__table__
STATE_ID = 1

# Built once, run with every consumed event: the playbooks' version and the playbooks whose work
# caused this event (its causation id is one of their task events), in one round trip.
_STATE_AND_CAUSE = text(
    """
    SELECT (SELECT version FROM playbook_state WHERE id = 1) AS version,
           ARRAY(SELECT playbook FROM tasks WHERE created_event_id = :causation_id
                 UNION SELECT playbook FROM playbook_effects WHERE event_id = :causation_id) AS caused_by
    """
).bindparams(bindparam("causation_id", type_=UUID(as_uuid=True)))
_VERSION_ONLY = select(_STATE.c.version).where(_STATE.c.id == STATE_ID)
_ADD_EFFECT = (
    insert(_EFFECTS).values(event_id=bindparam("event_id"), playbook=bindparam("playbook")).on_conflict_do_nothing()
)


class PlaybookRepository(VersionedRepository[PlaybookVersion]):
    """One series of versions per playbook key."""

    model = PlaybookVersion
    key_column = "key"

    async def state(self, causation_id: uuid.UUID | None) -> tuple[int, list[str]]:
        if causation_id is None:
            return (await self.session.execute(_VERSION_ONLY)).scalar_one(), []
        row = (await self.session.execute(_STATE_AND_CAUSE, {"causation_id": causation_id})).one()
        return row.version, list(row.caused_by or ())

    async def add_effects(self, event_id: uuid.UUID, playbooks: list[str]) -> None:
        for playbook in playbooks:
            await self.session.execute(_ADD_EFFECT, {"event_id": event_id, "playbook": playbook})

    async def bump(self) -> int:
        """Locks the state row too: playbook changes are serialised, versions never race."""
        statement = update(PlaybookState).where(PlaybookState.id == STATE_ID).values(version=PlaybookState.version + 1)
        return (await self.session.execute(statement.returning(PlaybookState.version))).scalar_one()

    async def lock(self, key: str | None = None) -> None:
        """Every playbook change bumps the state row instead of an advisory lock: its row lock
        serialises the changes, and the new number tells every worker to reload."""
        await self.bump()
