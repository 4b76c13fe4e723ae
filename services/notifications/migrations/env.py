"""Migrations of the notifications database: `alembic -c services/notifications/alembic.ini upgrade head`
uses NOTIFICATIONS_DATABASE_URL; make run and the tests go through crm_shared.db.migrate."""

import notifications.models  # noqa: F401 - registers the tables on the metadata
from crm_shared.alembic_env import run
from crm_shared.db import Base
from notifications.config import Settings

run(Base.metadata, Settings().database_url)
