"""Webhook signing secrets at rest: encrypted with Fernet (AES-128-CBC + HMAC-SHA256, `cryptography`).

A subscription's secret must be readable to sign each delivery, so it cannot be hashed; it is
stored as `fernet:<token>` under `NOTIFICATIONS_WEBHOOK_SECRETS_KEY`: one or more Fernet keys,
comma-separated, the first encrypting and all decrypting (rotate by putting the new key first,
re-sealing, then dropping the old). A database dump or replica without the key holds no usable
secret. Unset, a fixed dev key is used and the process says so; production sets
`NOTIFICATIONS_WEBHOOK_SECRETS_REQUIRE_KEY=true` (deploy/k8s/overlays/prod) so it refuses to start
without a real key.
"""

from __future__ import annotations

import base64
import hashlib
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from notifications.config import Settings

log = logging.getLogger(__name__)

SEALED_PREFIX = "fernet:"
# Public by design: only a development database is ever sealed with it.
DEV_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"crm dev webhook secrets key").digest()).decode()


class MissingKey(RuntimeError):
    pass


class Sealer:
    def __init__(self, keys: str | None, *, require_key: bool = False) -> None:
        names = [k.strip() for k in (keys or "").split(",") if k.strip()]
        if not names:
            if require_key:
                raise MissingKey("NOTIFICATIONS_WEBHOOK_SECRETS_KEY is required (Fernet.generate_key())")
            log.warning("webhook secrets sealed with the public dev key: set NOTIFICATIONS_WEBHOOK_SECRETS_KEY")
            names = [DEV_KEY]
        self.fernet = MultiFernet([Fernet(name.encode()) for name in names])

    def seal(self, secret: str) -> str:
        return SEALED_PREFIX + self.fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        if not stored.startswith(SEALED_PREFIX):
            raise ValueError("a webhook secret is stored unsealed: run the notifications migrations")
        try:
            return self.fernet.decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
        except InvalidToken as exc:
            raise ValueError("a webhook secret cannot be opened with NOTIFICATIONS_WEBHOOK_SECRETS_KEY") from exc

    def is_sealed(self, stored: str) -> bool:
        return stored.startswith(SEALED_PREFIX)


_sealers: dict[tuple[str | None, bool], Sealer] = {}


def sealer(settings: Settings) -> Sealer:
    """One Sealer per key setting (building a MultiFernet per delivery would be waste)."""
    keys, require_key = settings.webhook_secrets_key, settings.webhook_secrets_require_key
    if (keys, require_key) not in _sealers:
        _sealers[keys, require_key] = Sealer(keys, require_key=require_key)
    return _sealers[keys, require_key]
