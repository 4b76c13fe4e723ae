"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

The secret is `whsec_` + base64 of random bytes; each delivery is signed with HMAC-SHA256 of
`{webhook-id}.{webhook-timestamp}.{body}` keyed with the decoded secret, sent as
`webhook-signature: v1,<base64 signature>`. Receivers verify with the spec's libraries or a few
lines of their own, and reject timestamps too far from their clock (replays).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one delivery attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(secret: str, message_id: str, timestamp: int, body: bytes, signature_header: str) -> bool:
    """True if any `v1,` signature of the (space-separated) header matches."""
    expected = sign(secret, message_id, timestamp, body).split(",", 1)[1]
    for candidate in signature_header.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


def checked_url(value: str) -> str:
    """An absolute http(s) URL httpx can send to (refused when subscribing, not at send time)."""
    import httpx

    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise ValueError(f"not a usable URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("give an absolute http:// or https:// URL")
    return value
