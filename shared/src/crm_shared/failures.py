"""Which failures heal by themselves: the one answer every retry loop and the api's 503 share.

It sits below http/ and messaging/ (it names neither), so the error handler, the consumer
runner, the timers and the services' background loops can all ask it without importing each other.
"""

from __future__ import annotations

from aiokafka.errors import KafkaError
from sqlalchemy import exc as sa_exc

# SQLSTATE classes that mean "the database is not there right now", not "this event is bad".
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "40", "53", "57P")


class TransientFailure(Exception):
    """Raised for a condition that passes with time (a retry later succeeds), not for a bad input."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (OSError, ConnectionError, TimeoutError, KafkaError, TransientFailure)):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return bool(sqlstate) and str(sqlstate).startswith(_TRANSIENT_SQLSTATE_PREFIXES)
    if isinstance(exc, sa_exc.TimeoutError):  # connection pool exhausted
        return True
    return False
