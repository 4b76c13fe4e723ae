"""The customer 360's commercial summary: tenure, revenue over 12 months, contracts in force and
the next renewal. Pure functions over the contract terms, no I/O (unit-tested without servers).

`next_renewal` is the one place that decides which date the account manager prepares for: it reads
each contract's (starts_on, ends_on) as the contract activities record them today. When contracts
get dates of their own elsewhere, feed them in here and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

ContractTerm = tuple[date, date | None]  # (starts_on, ends_on); no end: open-ended, runs until cancelled


def in_force(terms: Iterable[ContractTerm], today: date) -> list[ContractTerm]:
    """Contracts running today: started, and not ended before today (an end date is the last day)."""
    return [(start, end) for start, end in terms if start <= today and (end is None or end >= today)]


def next_renewal(terms: Iterable[ContractTerm], today: date) -> date | None:
    """The soonest end date among the contracts in force: the renewal to prepare next. A contract
    that already runs beyond today from a later start (a signed renewal) is not in force yet and
    does not hide the end of the current one. None: nothing in force ends (or nothing is in force)."""
    ends = [end for _, end in in_force(terms, today) if end is not None]
    return min(ends) if ends else None


def tenure_days(customer_since: date, today: date) -> int:
    return max((today - customer_since).days, 0)
