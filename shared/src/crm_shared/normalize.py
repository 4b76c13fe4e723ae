"""Identifier normalisation shared by contacts (on write) and feedback (on caller lookup).

Both sides must normalise the same way, or a caller's phone number would not find the record.
"""

from __future__ import annotations

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
    """E.164 (`+4930123456`); national numbers are read in `default_region`."""
    try:
        parsed = phonenumbers.parse(value.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(f"not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidIdentifier("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
