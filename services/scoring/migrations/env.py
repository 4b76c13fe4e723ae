"""Migrations of the scoring database: `alembic -c services/scoring/alembic.ini upgrade head`
uses SCORING_DATABASE_URL; make run and the tests go through crm_shared.db.migrate."""

import scoring.models  # noqa: F401 - registers the tables on the metadata
from crm_shared.alembic_env import run
from crm_shared.db import Base
from scoring.config import Settings

run(Base.metadata, Settings().database_url)
