"""The demo users of dev sign-in: the seed's account owners (tools/crmctl seed.py) and a few per role.

What a role may do is its scopes (crm_shared.contracts.scopes); record-level rules follow the
role, teams and partner claims the apis read from the token.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from crm_shared.contracts.scopes import ALL_SCOPES

_WORK = ("contacts:read", "feedback:read", "feedback:write", "scores:read", "tasks:read", "tasks:write")
ROLE_SCOPES: dict[str, tuple[str, ...]] = {
    "agent": _WORK,
    "account_manager": (*_WORK, "contacts:write"),
    "service_manager": (*_WORK, "contacts:write", "webhooks:read"),
    "analyst": ("contacts:read", "feedback:read", "scores:read", "tasks:read"),
    "admin": ALL_SCOPES,
    "partner": ("contacts:read", "feedback:read", "feedback:write"),
}


@dataclass(frozen=True)
class DevUser:
    subject: str
    display_name: str
    role: str
    teams: tuple[str, ...] = ()
    partner: str | None = None

    def public(self) -> dict[str, object]:
        data = asdict(self)
        data["teams"] = list(self.teams)
        return data


DEV_USERS: tuple[DevUser, ...] = (
    # The owners of the seed's key accounts and of the other customers.
    DevUser("alice", "Alice Adler", "account_manager", ("key-accounts", "emea")),
    DevUser("bob", "Bob Brennan", "account_manager", ("key-accounts", "amer")),
    DevUser("chen", "Chen Wei", "account_manager", ("key-accounts", "apac")),
    DevUser("dana", "Dana Dobrev", "account_manager", ("key-accounts", "emea")),
    DevUser("gwen", "Gwen Garcia", "account_manager", ("accounts",)),
    DevUser("hugo", "Hugo Hartmann", "account_manager", ("accounts",)),
    DevUser("erin", "Erin Ellis", "agent", ("service-desk",)),
    DevUser("farid", "Farid Haddad", "agent", ("service-desk",)),
    DevUser("ines", "Ines Ito", "agent", ("service-desk",)),
    DevUser("maya", "Maya Moreau", "service_manager", ("service-desk", "key-accounts")),
    DevUser("noah", "Noah Novak", "service_manager", ("service-desk",)),
    DevUser("olga", "Olga Ortiz", "analyst"),
    DevUser("pavel", "Pavel Petrov", "analyst"),
    DevUser("root", "Ada Admin", "admin"),
    DevUser("sam", "Sam Sato", "partner", partner="northwind-distribution"),
    DevUser("tara", "Tara Tan", "partner", partner="harbor-supplies"),
)


def find(subject: str, role: str | None) -> DevUser | None:
    """The demo user with this subject (and role, when given)."""
    for user in DEV_USERS:
        if user.subject == subject and (role is None or user.role == role):
            return user
    return None
