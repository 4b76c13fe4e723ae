"""Migrations of the contacts database: `alembic -c services/contacts/alembic.ini upgrade head`
uses CONTACTS_DATABASE_URL; make run and the tests go through crm_shared.db.migrate."""

import contacts.models  # noqa: F401 - registers the tables on the metadata
from contacts.config import Settings
from crm_shared.alembic_env import run
from crm_shared.db import Base, connect_args

settings = Settings()
run(Base.metadata, settings.database_url, connect_args(settings))
