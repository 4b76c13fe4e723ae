"""All queries on teams."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, cast, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from crm_shared.db import Repository
from notifications.teams.models import Team

_TEAMS = Team.__table__
# One statement per team assignment: takes the turn and returns who had it (the row lock
# serialises concurrent assignments, so nobody is skipped or given two in a row).
_TAKE_TURN = (
    update(_TEAMS)
    .where(_TEAMS.c.name == bindparam("b_name"))
    .values(assigned=_TEAMS.c.assigned + 1)
    .returning(_TEAMS.c.members, (_TEAMS.c.assigned - 1).label("turn"))
)


class TeamRepository(Repository):
    async def take_turn(self, name: str) -> Row[Any] | None:
        return (await self.session.execute(_TAKE_TURN, {"b_name": name})).first()

    async def get(self, name: str) -> Team | None:
        return await self.session.get(Team, name)

    async def of_member(self, user: str) -> Team | None:
        """The first team (by name) `user` is a member of."""
        query = (
            select(Team).where(Team.members.contains(cast(literal([user], JSONB), JSONB))).order_by(Team.name).limit(1)
        )
        return await self.session.scalar(query)

    async def leads_over(self, user: str, team: str | None) -> set[str]:
        """Leads and managers of `team` and of every team `user` is a member of."""
        membership = Team.members.contains(cast(literal([user], JSONB), JSONB))
        query = select(Team.lead, Team.manager).where(membership | (Team.name == team) if team else membership)
        return {name for row in (await self.session.execute(query)).all() for name in row if name}

    async def list(self) -> list[Team]:
        return list((await self.session.scalars(select(Team).order_by(Team.name))).all())

    async def upsert(self, values: dict[str, Any]) -> Team:
        row = insert(Team).values(values)
        statement = row.on_conflict_do_update(
            index_elements=[Team.name], set_={k: row.excluded[k] for k in values if k != "name"}
        ).returning(Team)
        return (await self.session.scalars(statement, execution_options={"populate_existing": True})).one()
