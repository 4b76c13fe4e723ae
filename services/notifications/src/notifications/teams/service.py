"""Team use cases: queues for round-robin assignment, and the escalation chain."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.db import utcnow
from crm_shared.http.problems import NotFound
from notifications.teams.repository import TeamRepository
from notifications.teams.schemas import TeamBody, TeamList, TeamRead


async def put_team(session: AsyncSession, name: str, body: TeamBody) -> TeamRead:
    """Creates or replaces the team; its round-robin position is kept."""
    team = await TeamRepository(session).upsert({"name": name, **body.model_dump(), "updated_at": utcnow()})
    return TeamRead.model_validate(team)


async def get_team(session: AsyncSession, name: str) -> TeamRead:
    team = await TeamRepository(session).get(name)
    if team is None:
        raise NotFound("Team", name)
    return TeamRead.model_validate(team)


async def list_teams(session: AsyncSession) -> TeamList:
    return TeamList(items=[TeamRead.model_validate(t) for t in await TeamRepository(session).list()])
