"""Unit tests of the customer 360 summary: which contracts are in force and when the next renewal is."""

from datetime import date

from contacts.customer360.summary import in_force, next_renewal, tenure_days

TODAY = date(2026, 12, 5)


def test_the_next_renewal_is_the_soonest_end_of_a_contract_in_force() -> None:
    terms = [
        (date(2026, 1, 1), date(2027, 3, 31)),
        (date(2025, 6, 1), date(2027, 1, 15)),
        (date(2024, 1, 1), date(2026, 12, 4)),  # ended yesterday
        (date(2027, 1, 16), date(2028, 1, 15)),  # the signed renewal: not in force yet
        (date(2026, 6, 1), None),  # open-ended
    ]
    assert len(in_force(terms, TODAY)) == 3
    assert next_renewal(terms, TODAY) == date(2027, 1, 15)


def test_a_contract_ending_today_is_still_in_force_and_nothing_in_force_means_no_renewal() -> None:
    assert next_renewal([(date(2026, 1, 1), TODAY)], TODAY) == TODAY
    assert next_renewal([(date(2026, 1, 1), None)], TODAY) is None
    assert next_renewal([], TODAY) is None
    assert tenure_days(date(2025, 12, 5), TODAY) == 365
