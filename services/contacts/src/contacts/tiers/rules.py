"""The tier rules as a pure function: the same facts and rules always give the same tier.

Money: every amount (orders, potential, thresholds) is taken to be in the one reporting
currency the company sets its thresholds in. Orders are summed as recorded, whatever their
`currency`; converting them belongs upstream (the ERP or the import), not in this rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from contacts.tiers.schemas import TierRules
from crm_shared.contracts.vocabulary import Tier

DEFAULT_RULES = TierRules(
    key_contract_months=12,
    key_order_volume=Decimal("100000"),
    key_potential=Decimal("1000000"),
    silver_order_volume=Decimal("10000"),
    gold_order_volume=Decimal("50000"),
    order_window_months=12,
)


@dataclass(frozen=True, slots=True)
class TierFacts:
    """What the rules look at, gathered for one customer."""

    order_volume: Decimal  # orders in the rules' window
    contracts: Sequence[tuple[date, date | None]]  # (starts_on, ends_on or None if open-ended)
    potential: Decimal | None = None
    strategic: bool = False


@dataclass(frozen=True, slots=True)
class TierDecision:
    tier: Tier
    reason: str


def months_between(start: date, end_exclusive: date) -> int:
    """Whole calendar months from `start` up to `end_exclusive` (Jan 1 to Aug 1 is 7)."""
    months = (end_exclusive.year - start.year) * 12 + end_exclusive.month - start.month
    if end_exclusive.day < start.day:
        months -= 1
    return max(months, 0)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` earlier (clamped to the month's last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def continuous_months(contracts: Sequence[tuple[date, date | None]], today: date) -> int:
    """Length of the run of back-to-back contracts in force today, first start to last end.

    A contract starting the day after another ends (or earlier) continues the run; an
    open-ended one runs until today. A run that ended before today counts 0: the relationship
    must be under contract now. The whole term counts, so a two-year contract signed last week
    is two years of commitment, as the key-account criterion means it.
    """
    runs: list[tuple[date, date | None]] = []
    for starts_on, ends_on in sorted(contracts, key=lambda c: c[0]):
        if runs:
            run_start, run_end = runs[-1]
            if run_end is None or starts_on <= run_end + timedelta(days=1):
                runs[-1] = (run_start, None if run_end is None or ends_on is None else max(run_end, ends_on))
                continue
        runs.append((starts_on, ends_on))
    for run_start, run_end in runs:
        if run_start <= today and (run_end is None or run_end >= today):
            last_day = today if run_end is None else run_end
            return months_between(run_start, last_day + timedelta(days=1))
    return 0


def _money(amount: Decimal) -> str:
    return f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"


def evaluate(rules: TierRules, facts: TierFacts, today: date) -> TierDecision:
    """The tier the rules give, and a reason a person can read (and check) in the audit log."""
    volume = facts.order_volume
    ordered = f"{_money(volume)} ordered in {rules.order_window_months} months"
    key_because: list[str] = []
    months = continuous_months(facts.contracts, today)
    if months >= rules.key_contract_months and volume >= rules.key_order_volume:
        key_because.append(f"continuous contracts for {months} months and {ordered}")
    if facts.potential is not None and facts.potential >= rules.key_potential:
        key_because.append(f"annual potential of {_money(facts.potential)}")
    if facts.strategic:
        key_because.append("strategic account")
    if key_because:
        return TierDecision(Tier.key, "; ".join(key_because))
    if volume >= rules.gold_order_volume:
        return TierDecision(Tier.gold, f"{ordered} (gold from {_money(rules.gold_order_volume)})")
    if volume >= rules.silver_order_volume:
        return TierDecision(Tier.silver, f"{ordered} (silver from {_money(rules.silver_order_volume)})")
    return TierDecision(Tier.bronze, f"{ordered} (silver from {_money(rules.silver_order_volume)})")
