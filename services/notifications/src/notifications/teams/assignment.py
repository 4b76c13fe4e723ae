"""Who gets a task and who it escalates to: pure rules, no I/O."""

from __future__ import annotations

from collections.abc import Sequence

# Queue that gets a customer's tasks when there is no account owner or team member to take them.
FALLBACK_QUEUE = "service-desk"
# Escalation levels: 1 = the team lead, 2 = the manager; there is nothing above.
TOP_LEVEL = 2


def round_robin(members: Sequence[str], assigned: int) -> str | None:
    """The member whose turn it is after `assigned` earlier assignments (None: nobody in the team)."""
    if not members:
        return None
    return members[assigned % len(members)]


def assignee_for(assign_to: str, *, owner: str | None, team_member: str | None) -> str:
    """`owner` -> the owner; `team:x` -> the member round-robin picked; `user:x` -> x; else the fallback queue."""
    if assign_to == "owner":
        return owner or FALLBACK_QUEUE
    if assign_to.startswith("team:"):
        return team_member or FALLBACK_QUEUE
    if assign_to.startswith("user:"):
        return assign_to.removeprefix("user:")
    return FALLBACK_QUEUE


def escalation_target(level: int, *, lead: str | None, manager: str | None, fallback: str) -> str:
    """Level 1 goes to the team lead, level 2 to the manager; a missing one to the fallback target."""
    chosen = lead if level == 1 else manager
    return chosen or fallback
