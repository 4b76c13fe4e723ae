"""Versioned settings: rules an admin changes through the API are never updated in place. Each
change is a new row numbered after the current one, with who made it and when, so an old decision
can always be explained by the version it was made with. One owner for the pattern, so every
service numbers, locks, reads and lists versions the same way.

A table holds one series (`key_column` None) or one series per key (`key_column` names it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar, cast

from sqlalchemy import ColumnElement, DateTime, Integer, Select, String, Table, func, select, tuple_
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Mapped, mapped_column

from crm_shared.db import Repository, utcnow

VersionT = TypeVar("VersionT")


class VersionColumns:
    """The columns every version row has. A keyed table declares its key column itself, so the
    primary key stays (key, version)."""

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


def change_stamp(*tables: Table) -> ColumnElement[str]:
    """A value that changes whenever a version is written to any of these tables.

    Versions are only ever added (never updated nor deleted), so the number of rows and the newest
    `created_at` of each table change with every edit, whichever replica made it. Put in a
    statement the hot path runs anyway, it lets a process keep what the tables hold in memory and
    read them again only when the stamp it gets back differs from the one it cached them under:
    an edit takes effect from the next statement that reads the stamp, at no extra round trip.
    """
    parts: list[Any] = []
    for table in tables:
        count = select(func.count()).select_from(table).scalar_subquery()
        newest = select(func.max(table.c.created_at)).scalar_subquery()
        parts += [sql_cast(count, String), "@", sql_cast(newest, String), ";"]
    return func.concat(*parts)


class VersionedRepository(Repository, Generic[VersionT]):
    """The queries of one versioned table: the version in force, the history, the next number."""

    model: ClassVar[Any]
    # Any constant unique to the table, for the transaction-scoped advisory lock.
    lock_id: ClassVar[int]
    key_column: ClassVar[str | None] = None

    def _series(self, query: Select[Any], key: str | None) -> Select[Any]:
        if self.key_column is None:
            return query
        return query.where(getattr(self.model, self.key_column) == key)

    async def lock(self, key: str | None = None) -> None:
        """Held until commit, so two changes get versions n+1 and n+2, never two n+1."""
        if self.key_column is None:
            await self.session.execute(select(func.pg_advisory_xact_lock(self.lock_id)))
        else:
            await self.session.execute(select(func.pg_advisory_xact_lock(self.lock_id, func.hashtext(key))))

    async def current(self, key: str | None = None) -> VersionT | None:
        """The version in force: the highest."""
        query = self._series(select(self.model), key).order_by(self.model.version.desc()).limit(1)
        return cast(VersionT | None, (await self.session.scalars(query)).first())

    async def current_all(self) -> list[VersionT]:
        """The version in force of every key that has one (a keyed table only)."""
        if self.key_column is None:
            raise TypeError(f"{type(self).__name__} holds one series: read current()")
        key = getattr(self.model, self.key_column)
        latest = select(key, func.max(self.model.version)).group_by(key)
        query = select(self.model).where(tuple_(key, self.model.version).in_(latest))
        return list((await self.session.scalars(query)).all())

    async def history(
        self, key: str | None = None, *, limit: int | None = None, below: int | None = None
    ) -> list[VersionT]:
        """Newest first; `below` is the keyset cursor (the last version of the previous page)."""
        query = self._series(select(self.model), key)
        if below is not None:
            query = query.where(self.model.version < below)
        query = query.order_by(self.model.version.desc()).limit(limit)
        return list((await self.session.scalars(query)).all())

    async def next_version(self, key: str | None = None) -> int:
        """Locks the series (until commit) and returns the number of the version to write."""
        await self.lock(key)
        highest = await self.session.scalar(self._series(select(func.max(self.model.version)), key))
        return int(highest or 0) + 1

    async def add_version(self, actor: str, key: str | None = None, **values: Any) -> VersionT:
        """Writes the next version with its audit fields (who, when)."""
        version = await self.next_version(key)
        if self.key_column is not None:
            values[self.key_column] = key
        row = self.model(version=version, created_by=actor, created_at=utcnow(), **values)
        return cast(VersionT, await self.insert(row))
