"""Identifier normalisation, the same on write (the customer master) and on caller lookup.

Both sides must normalise the same way, or a caller's phone number would not find the record.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidIdentifier(ValueError):
    pass


def normalize_email(value: str) -> str:
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidIdentifier(str(exc)) from exc
    return result.normalized.lower()


def normalize_phone(value: str, default_region: str | None) -> str:
    """E.164 (`+4930123456`); national numbers are read in `default_region`.

    `00` followed by a country code (`0086-138-0013-8000`) is read as `+86...`: it is how most of
    the world dials abroad, and call-centre systems often store numbers that way.
    """
    try:
        parsed = phonenumbers.parse(value.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        digits = national_digits(value)
        if digits and digits.startswith("00"):
            try:
                parsed = phonenumbers.parse("+" + digits[2:], None)
            except phonenumbers.NumberParseException:
                pass
        if not phonenumbers.is_valid_number(parsed):
            raise InvalidIdentifier("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def national_digits(value: str) -> str | None:
    """The digits of a number written without its country (`138 0013 8000`), for a lookup that
    matches stored numbers by their national part; None when it is not such a number."""
    if value.strip().startswith("+"):
        return None
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits if 6 <= len(digits) <= 17 else None


@dataclass(frozen=True)
class CallerPhone:
    """How to look up the holder of a number a caller gave.

    `e164` is the number as read in the default region (None when that region cannot place it).
    `national` is set when the caller left out the country code: if nobody holds `e164`, the
    holder is whoever's stored number has these digits as its national part. A number without
    its country may read as a valid local one by chance (13865211866 is +1 386-521-1866 as well
    as +86 138 6521 1866 dialled at home), so validity alone cannot tell which was meant.
    """

    e164: str | None
    national: str | None


def read_caller_phone(value: str, default_region: str | None) -> CallerPhone:
    """Raises InvalidIdentifier when the number is neither valid nor a national number."""
    digits = national_digits(value)
    try:
        e164 = normalize_phone(value, default_region)
    except InvalidIdentifier:
        if digits is None:
            raise
        return CallerPhone(None, digits)
    # `00` dials abroad: the country is there, only in another spelling.
    return CallerPhone(e164, None if digits is None or digits.startswith("00") else digits)


def same_national_number(e164: str, digits: str) -> bool:
    """Whether a stored E.164 number is `digits` dialled without its country code (a national
    trunk `0` in front, as in `0138...`, is allowed)."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    national = str(parsed.national_number)
    return digits == national or digits == "0" + national
