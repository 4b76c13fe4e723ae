import notifications.models  # noqa: F401 - registers the tables on the metadata
from crm_shared.alembic_env import run
from crm_shared.db import Base

run(Base.metadata)
