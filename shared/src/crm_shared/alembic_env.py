"""The body of every service's migrations/env.py: async engine, online and offline modes."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def run(target_metadata: MetaData, database_url: str, connect_args: dict[str, Any] | None = None) -> None:
    """`database_url` and `connect_args` (TLS, crm_shared.db.connect_args): the service's settings;
    `crm_shared.db.migrate` may override them."""
    url = context.config.attributes.get("database_url") or database_url
    tls = context.config.attributes.get("connect_args", connect_args) or {}
    version_table = "alembic_version"
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True, version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
        return

    def _migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()

    async def _online() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool, connect_args=tls)
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
        await engine.dispose()

    asyncio.run(_online())
