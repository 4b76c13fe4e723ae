"""Keyset pagination: an opaque cursor holding the sort key of the last item returned."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any

import orjson

from crm_shared.http.problems import ProblemError


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([str(v) for v in values])).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise ProblemError(
            400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor"
        ) from exc
    if not isinstance(values, list) or len(values) != parts:
        raise ProblemError(400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor")
    return [str(v) for v in values]


def encode_time_cursor(at: datetime, ident: uuid.UUID) -> str:
    return encode_cursor(at.isoformat(), ident)


def decode_time_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """Cursor for lists ordered by (timestamp, id), the keyset every service's lists use."""
    if not cursor:
        return None
    at, ident = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(at), uuid.UUID(ident)
    except ValueError as exc:
        raise ProblemError(
            400, "Invalid cursor", "The cursor is not one this API returned.", type="bad-cursor"
        ) from exc
