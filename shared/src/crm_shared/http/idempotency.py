"""Idempotency-Key for writes a client may retry (IETF draft "The Idempotency-Key HTTP Header").

The key row is inserted in the same transaction as the write. A concurrent retry blocks on the
primary key until the first attempt commits, then finds the stored response and replays it; a
retry after a failed attempt finds nothing (the rollback removed the row) and runs again.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.db import Prebuilt
from crm_shared.http.auth import Principal
from crm_shared.http.idempotency_model import IdempotencyRecord
from crm_shared.http.problems import ProblemError
from crm_shared.http.responses import JsonResponse

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


# Statements built once (statement construction dominated the CPU cost of a request).
_TABLE = IdempotencyRecord.__table__
# b_ names: SQLAlchemy reserves column names for the SET clause of an UPDATE.
_MATCH = (
    (_TABLE.c.principal == bindparam("b_principal"))
    & (_TABLE.c.operation == bindparam("b_operation"))
    & (_TABLE.c.key == bindparam("b_key"))
)
# Claim and complete run on the driver connection (crm_shared.db.Prebuilt): they are two of
# the few statements of every retried write.
_CLAIM = Prebuilt(
    insert(_TABLE)
    .values(
        principal=bindparam("principal"),
        operation=bindparam("operation"),
        key=bindparam("key"),
        request_hash=bindparam("request_hash"),
    )
    .on_conflict_do_nothing()
    .returning(_TABLE.c.key)
)
_STORED = select(_TABLE.c.request_hash, _TABLE.c.status_code, _TABLE.c.response_body).where(_MATCH)
_COMPLETE = Prebuilt(
    update(_TABLE).where(_MATCH).values(status_code=bindparam("status_code"), response_body=bindparam("response_body"))
)


class IdempotentReplay(Exception):
    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body

    def response(self, headers: dict[str, str] | None = None) -> JsonResponse:
        """The first answer again, marked as a replay."""
        return JsonResponse(
            self.body, status_code=self.status_code, headers={"Idempotent-Replayed": "true"} | (headers or {})
        )


class Idempotency:
    """Per-request helper; `begin` before the write, `complete` with the response body."""

    def __init__(self, session: AsyncSession, principal: Principal, operation: str, key: str | None) -> None:
        self.session = session
        self.principal = principal
        self.operation = operation
        self.key = key

    @classmethod
    def from_request(cls, request: Request, session: AsyncSession, principal: Principal, operation: str) -> Idempotency:
        key = request.headers.get(HEADER)
        if key is not None:
            key = key.strip()
            if not key or len(key) > MAX_KEY_LENGTH:
                raise ProblemError(
                    400,
                    "Invalid Idempotency-Key",
                    f"The key must be 1 to {MAX_KEY_LENGTH} characters.",
                    type="bad-idempotency-key",
                )
        return cls(session, principal, operation, key)

    async def begin(self, payload: Any) -> IdempotentReplay | None:
        """Claim the key, or return the stored outcome of the earlier request that claimed it."""
        if self.key is None:
            return None
        request_hash = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
        ident = {"principal": self.principal.subject, "operation": self.operation, "key": self.key}
        if await _CLAIM.fetchrow(self.session, ident | {"request_hash": request_hash}) is not None:
            return None
        stored = (await self.session.execute(_STORED, {f"b_{k}": v for k, v in ident.items()})).one()
        assert stored.status_code is not None
        if stored.request_hash != request_hash:
            raise ProblemError(
                422,
                "Idempotency-Key reused",
                "This Idempotency-Key was already used with a different request body.",
                type="idempotency-key-reused",
            )
        return IdempotentReplay(stored.status_code, stored.response_body)

    async def complete(self, status_code: int, body: Any) -> None:
        if self.key is None:
            return
        await _COMPLETE.fetchrow(
            self.session,
            {
                "b_principal": self.principal.subject,
                "b_operation": self.operation,
                "b_key": self.key,
                "status_code": status_code,
                "response_body": body,
            },
        )
