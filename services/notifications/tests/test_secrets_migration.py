"""Integration: the migration seals webhook secrets stored in clear before it, and its downgrade opens them."""

import asyncio
import uuid
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.config import Config

from notifications.outbound.sealing import Sealer

pytestmark = pytest.mark.integration

SERVICE_DIR = Path(__file__).resolve().parents[1]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def alembic_config(database_url: str) -> Config:
    config = Config(str(SERVICE_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(SERVICE_DIR / "migrations"))
    config.attributes["database_url"] = database_url
    return config


async def _run(dsn: str, query: str, *args: object) -> object:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def test_existing_secrets_are_sealed_by_the_upgrade_and_opened_by_the_downgrade(dev_stack) -> None:
    name = f"crm_notifications_mig_{uuid.uuid4().hex[:8]}"
    asyncio.run(dev_stack.postgres.create_databases([name]))
    config = alembic_config(dev_stack.postgres.url(name))
    dsn = dev_stack.postgres.dsn(name)
    command.upgrade(config, "0006_limits")
    ident = uuid.uuid4()
    asyncio.run(
        _run(
            dsn,
            "INSERT INTO webhook_subscriptions (id, url, event_types, secret, created_by) "
            "VALUES ($1, 'https://erp.example/hook', ARRAY['crm.*'], $2, 'admin')",
            ident,
            SECRET,
        )
    )

    command.upgrade(config, "head")
    sealed = asyncio.run(_run(dsn, "SELECT secret FROM webhook_subscriptions WHERE id = $1", ident))
    assert isinstance(sealed, str) and sealed.startswith("fernet:") and SECRET not in sealed
    assert Sealer(None).open(sealed) == SECRET

    command.downgrade(config, "0006_limits")
    assert asyncio.run(_run(dsn, "SELECT secret FROM webhook_subscriptions WHERE id = $1", ident)) == SECRET
    asyncio.run(dev_stack.postgres.drop_database(name))
