"""Migrations of the feedback database: `alembic -c services/feedback/alembic.ini upgrade head`
uses FEEDBACK_DATABASE_URL; make run and the tests go through crm_shared.db.migrate."""

import feedback.models  # noqa: F401 - registers the tables on the metadata
from crm_shared.alembic_env import run
from crm_shared.db import Base
from feedback.config import Settings

run(Base.metadata, Settings().database_url)
