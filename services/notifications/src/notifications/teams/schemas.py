from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from crm_shared.http.schemas import RequestModel

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,99}$"


class TeamBody(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "members": ["alice", "bob"],
                    "lead": "carol",
                    "manager": "dave",
                    "escalate_after_minutes": 240,
                }
            ]
        }
    )

    members: list[str] = Field(default_factory=list, max_length=200, description="Round-robin order.")
    lead: str | None = Field(default=None, pattern=NAME_PATTERN, description="First escalation level.")
    manager: str | None = Field(default=None, pattern=NAME_PATTERN, description="Second escalation level.")
    escalate_after_minutes: float = Field(
        default=240, gt=0, strict=True, le=60 * 24 * 30, description="From one escalation level to the next."
    )

    @field_validator("members")
    @classmethod
    def _names(cls, members: list[str]) -> list[str]:
        import re

        for member in members:
            if not re.fullmatch(NAME_PATTERN, member):
                raise ValueError(f"{member!r} is not a user name")
        if len(set(members)) != len(members):
            raise ValueError("members must be unique")
        return members


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    members: list[str]
    lead: str | None
    manager: str | None
    escalate_after_minutes: float
    updated_at: datetime


class TeamList(BaseModel):
    items: list[TeamRead]
