"""Record-level access: which customers a caller reaches, and how their personal data shows.

One mechanism for the four services (docs/security.md#roles-and-record-level-access). The token's
roles map to a `Reach`; `crm_shared.http.auth.require` binds it for the request (a context variable,
like the correlation id), and every repository reads it (`Repository.reach`) and adds its WHERE on
the customer's `owner`, `owner_team` and `partner`: the customer master on its own table, the
other services on their customer projection, which carries the same three fields from the contact
events. A worker binds nothing and reaches everything.

- `agent`, `service_manager`, `admin`, `integration` (a token without a role): every customer
  (an agent must find any caller).
- `analyst`: every customer, pseudonymised (stable pseudonyms instead of names, no email, phone or
  external ids), and no writes.
- `account_manager`: customers they own (`owner` = their subject) or their teams own (`owner_team`).
- `partner`: customers assigned to their partner organisation (`partner`).

Several roles add up; a role that reaches everything wins, then the analyst's view.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, or_, true
from sqlalchemy.sql.elements import ColumnElement

# Roles that see every customer by name.
EVERY_CUSTOMER = frozenset({"agent", "service_manager", "admin", "integration"})
# Roles that may close any claimed task (besides its assignee and the assignee's team lead).
MANAGERS = frozenset({"service_manager", "admin", "integration"})


@dataclass(frozen=True, slots=True)
class Reach:
    """The customers one caller may see and change. The default reaches everything (workers)."""

    every_customer: bool = True
    pseudonymised: bool = False
    subject: str | None = None
    teams: frozenset[str] = frozenset()
    partner: str | None = None
    # Whether the caller may read personal data (scopes.PERSONAL_DATA_SCOPE): without it, the
    # email and phone addresses other records quote (message recipients, staff) show masked.
    personal_data: bool = True
    # Keys the pseudonyms: stable for one deployment, not computable from the id by outsiders.
    pseudonym_key: bytes = b""

    @classmethod
    def of(
        cls,
        subject: str,
        roles: frozenset[str],
        teams: frozenset[str],
        partner: str | None,
        *,
        personal_data: bool,
        key: bytes,
    ) -> Reach:
        if roles & EVERY_CUSTOMER:
            return cls(subject=subject, personal_data=personal_data, pseudonym_key=key)
        if "analyst" in roles:
            return cls(pseudonymised=True, subject=subject, personal_data=False, pseudonym_key=key)
        return cls(
            every_customer=False,
            subject=subject if "account_manager" in roles else None,
            teams=teams if "account_manager" in roles else frozenset(),
            partner=partner if "partner" in roles else None,
            personal_data=personal_data,
            pseudonym_key=key,
        )

    def shown_address(self, value: str | None) -> str | None:
        """An email or phone as this caller may see it: whole, or masked without personal data."""
        return value if value is None or self.personal_data else mask_address(value)

    def covers(self, owner: str | None, owner_team: str | None, partner: str | None) -> bool:
        """Whether a customer with this owner, team and partner is within reach (Python side)."""
        if self.every_customer:
            return True
        return bool(
            (self.subject is not None and owner == self.subject)
            or (owner_team is not None and owner_team in self.teams)
            or (self.partner is not None and partner == self.partner)
        )

    def where(self, owner: Any, owner_team: Any, partner: Any) -> ColumnElement[bool]:
        """The SQL condition for the customer columns `owner`, `owner_team`, `partner`."""
        if self.every_customer:
            return true()
        conditions = []
        if self.subject is not None:
            conditions.append(owner == self.subject)
        if self.teams:
            conditions.append(owner_team.in_(sorted(self.teams)))
        if self.partner is not None:
            conditions.append(partner == self.partner)
        return or_(*conditions) if conditions else false()

    def pseudonym(self, value: object) -> str:
        """A stable stand-in for a value (a customer id): the same in every service and request."""
        digest = hmac.new(self.pseudonym_key, str(value).encode(), hashlib.sha256).hexdigest()
        return f"anon-{digest[:12]}"


EVERYTHING = Reach()

_current: ContextVar[Reach] = ContextVar("crm_reach", default=EVERYTHING)


def current() -> Reach:
    """The reach bound for this request (EVERYTHING in a worker or before authentication)."""
    return _current.get()


def bind(reach: Reach) -> None:
    """Binds the caller's reach for the rest of the request (done by `require`)."""
    _current.set(reach)


@contextmanager
def bound(reach: Reach) -> Iterator[None]:
    """The reach for a block only (tests, and work done on a caller's behalf)."""
    token = _current.set(reach)
    try:
        yield
    finally:
        _current.reset(token)


_EMAIL = re.compile(r"^(?P<first>[^@])[^@]*@(?P<domain>.+)$")


def mask_email(value: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`: enough to recognise, not to contact."""
    match = _EMAIL.match(value)
    return f"{match['first']}***@{match['domain']}" if match else "***"


def mask_phone(value: str) -> str:
    """`+8613812348000` -> `+86138****8000`: the country and carrier part and the last four digits."""
    digits = value.lstrip("+")
    if len(digits) < 8:
        return "****"
    prefix = "+" if value.startswith("+") else ""
    return f"{prefix}{digits[:5]}****{digits[-4:]}"


def mask_address(value: str) -> str:
    """An email or phone address, masked by its kind; anything else (a URL, a user id) stays."""
    if "@" in value:
        return mask_email(value)
    if value.lstrip("+").replace(" ", "").isdigit():
        return mask_phone(value.replace(" ", ""))
    return value
