from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path

from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from notifications.teams import service
from notifications.teams.schemas import NAME_PATTERN, TeamBody, TeamList, TeamRead

router = APIRouter(prefix="/v1/teams", tags=["teams"])

TeamName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=100)]
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No team with this name", "content": {"application/problem+json": {}}}
}


@router.get("", response_model=TeamList, summary="List the teams")
async def list_teams(session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]) -> TeamList:
    return await service.list_teams(session)


@router.get("/{name}", response_model=TeamRead, summary="Get a team", responses=_NOT_FOUND)
async def get_team(
    name: TeamName, session: SessionDep, _: Annotated[Principal, Depends(require("tasks:read"))]
) -> TeamRead:
    return await service.get_team(session, name)


@router.put(
    "/{name}",
    response_model=TeamRead,
    summary="Create or replace a team",
    description="Members take `team:<name>` tasks in turn (round-robin); an overdue task of a member "
    "escalates to the lead, then, `escalate_after_minutes` later, to the manager. Needs the `admin` scope.",
)
async def put_team(
    name: TeamName, body: TeamBody, session: SessionDep, _: Annotated[Principal, Depends(require("admin"))]
) -> TeamRead:
    return await service.put_team(session, name, body)
