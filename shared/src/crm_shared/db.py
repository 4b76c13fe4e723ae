"""Database plumbing: one declarative base, engines, and the unit of work.

Services never commit. The boundary that owns the work (an HTTP request, one consumed event)
opens a `unit_of_work`, which commits once at the end and then hands the outbox rows written in
that transaction to the publisher, so events leave right after the commit that made them true.
"""

from __future__ import annotations

import ssl
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import asyncpg
from sqlalchemy import MetaData, Table
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.base import Executable

from crm_shared import access
from crm_shared.config import ServiceSettings

# Stable constraint names, so Alembic migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Each service has its own database; a process only imports its own service's models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model here is mapped to one Table (SQLAlchemy types it as any FromClause), so the
    # prebuilt Core statements (`insert(Model.__table__)`) type-check.
    __table__: ClassVar[Table]


RowT = TypeVar("RowT", bound=Base)


class Repository:
    """Base of every repository: it holds the unit of work's session (it never commits) and
    inserts a row at once, so defaults, ids and constraint errors show up at the call.

    `reach` is the caller's record-level access (crm_shared.access), bound for the request by
    `require`: queries on customer-bound records add `reach.where(...)` (or
    `crm_shared.projections.in_reach`), so a record outside it is never listed nor found.
    """

    def __init__(self, session: AsyncSession, reach: access.Reach | None = None) -> None:
        self.session = session
        self.reach = reach if reach is not None else access.current()

    async def insert(self, row: RowT) -> RowT:
        self.session.add(row)
        await self.session.flush()
        return row


def utcnow() -> datetime:
    """Timestamps are set in Python, so a flush needs no round trip to read them back."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def database_ssl(settings: ServiceSettings) -> ssl.SSLContext | bool | None:
    """asyncpg's `ssl` argument for `<SERVICE>_DATABASE_SSL_MODE` (None: the URL decides)."""
    mode = settings.database_ssl_mode
    if mode is None:
        return None
    if mode == "disable":
        return False
    context = ssl.create_default_context(cafile=settings.database_ssl_root_cert)
    if mode == "require":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif mode == "verify-ca":
        context.check_hostname = False  # the chain is still verified (CERT_REQUIRED)
    if settings.database_ssl_cert:
        context.load_cert_chain(settings.database_ssl_cert, settings.database_ssl_key)
    return context


def connect_args(settings: ServiceSettings) -> dict[str, Any]:
    tls = database_ssl(settings)
    return {} if tls is None else {"ssl": tls}


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        # No pre-ping: it costs a round trip on every checkout. A dead connection surfaces as a
        # transient error instead (503 + Retry-After on the api, retry in the consumer).
        pool_recycle=1800,
        connect_args=connect_args(settings),
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


class Prebuilt:
    """A Core statement compiled once for asyncpg and run on the session's own asyncpg connection,
    in the session's transaction: for the few statements of a hot path, where SQLAlchemy's
    per-execution work (compiled-cache lookup, parameter processing, result wrapping) costs more
    CPU than the statement itself. Same SQL, same parameters (bind processors applied, so a JSON
    value is serialised as SQLAlchemy would), same transaction; a database error surfaces as the
    `DBAPIError` a `session.execute` would raise (so a lost connection still answers 503).
    Only for statements whose effects the session's identity map need not see."""

    def __init__(self, statement: Any) -> None:
        compiled = statement.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
        self.sql = str(compiled)
        self.names: list[str] = list(compiled.positiontup or ())
        processors = compiled._bind_processors
        self.processors = [processors.get(name) for name in self.names]
        self.defaults = {name: value for name, value in compiled.params.items() if value is not None}

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        """Positional values in the compiled order; a value the statement fixed (`.values(attempts=0)`) is its own."""
        values = [params[name] if name in params else self.defaults[name] for name in self.names]
        return [v if p is None or v is None else p(v) for v, p in zip(values, self.processors, strict=True)]

    async def fetchrow(self, session: AsyncSession, params: dict[str, Any]) -> asyncpg.Record | None:
        """The first row the statement returns, or None."""
        connection = await driver_connection(session)
        try:
            return await connection.fetchrow(self.sql, *self.arguments(params))
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _dbapi_error(self.sql, exc) from exc

    async def execute(self, session: AsyncSession, params: dict[str, Any]) -> None:
        """Runs the statement for its effect (no rows)."""
        connection = await driver_connection(session)
        try:
            await connection.execute(self.sql, *self.arguments(params))
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise _dbapi_error(self.sql, exc) from exc


def _execute_core(session: Session, statement: Executable, params: Any) -> CursorResult[Any]:
    return session.connection().execute(statement, params)


async def execute_core(session: AsyncSession, statement: Executable, params: Any) -> CursorResult[Any]:
    """A prebuilt Core statement on the session's connection, in its transaction, in one hop into
    SQLAlchemy's greenlet (`session.connection()` then `execute` would take two). Only for tables
    the ORM holds no pending changes for (nothing to autoflush)."""
    return await session.run_sync(_execute_core, statement, params)


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection with the session's transaction begun on it (SQLAlchemy's
    adapter issues BEGIN lazily, before its first statement: begun here, what runs on the driver
    connection is committed or rolled back with the session)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()  # as `session.execute` autoflushes: the statement sees pending changes
    raw = await (await session.connection()).get_raw_connection()
    adapted: Any = raw.dbapi_connection
    if adapted._transaction is None:
        try:
            await adapted._start_transaction()
        except Exception as exc:  # the adapter's own error type: surface it as `session.execute` would
            cause = exc.__cause__
            if isinstance(cause, (asyncpg.PostgresError, asyncpg.InterfaceError)):
                raise _dbapi_error("BEGIN", cause) from exc
            raise
    connection: asyncpg.Connection = raw.driver_connection
    return connection


def _dbapi_error(sql: str, exc: Exception) -> sa_exc.DBAPIError:
    if isinstance(exc, asyncpg.InterfaceError):  # the connection is gone or unusable
        return sa_exc.OperationalError(sql, None, exc, connection_invalidated=True)
    if str(getattr(exc, "sqlstate", "")).startswith("23"):  # a constraint refused the row
        return sa_exc.IntegrityError(sql, None, exc)
    return sa_exc.DBAPIError(sql, None, exc)


AfterCommit = Callable[[list[Any]], None]


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], after_commit: AfterCommit | None = None
) -> AsyncIterator[AsyncSession]:
    """One transaction; on success, commit then pass the outbox rows it wrote to `after_commit`."""
    async with sessions() as session:
        async with session.begin():
            yield session
        pending = session.info.pop("outbox", [])
    if pending and after_commit is not None:
        after_commit(pending)


def migrate(service_dir: Path, database_url: str, tls: dict[str, Any] | None = None) -> None:
    """Apply a service's Alembic migrations (make run, test setup and deploy jobs all use this)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["connect_args"] = tls or {}
    command.upgrade(config, "head")
