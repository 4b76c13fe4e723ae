"""Webhook signing secrets encrypted at rest: seals every stored secret still in clear.

Uses the key the service runs with (NOTIFICATIONS_WEBHOOK_SECRETS_KEY, the dev key when unset):
run the migration with the same setting as the api and worker. Downgrade opens them again.

Revision ID: 0007_limits
"""

import sqlalchemy as sa
from alembic import op

from notifications.config import Settings
from notifications.outbound import sealing

revision = "0007_limits"
down_revision = "0006_limits"
branch_labels = None
depends_on = None

SUBSCRIPTIONS = sa.table("webhook_subscriptions", sa.column("id"), sa.column("secret", sa.String))


def _rewrite(seal: bool) -> None:
    sealer = sealing.sealer(Settings())
    connection = op.get_bind()
    for ident, secret in connection.execute(sa.select(SUBSCRIPTIONS.c.id, SUBSCRIPTIONS.c.secret)).all():
        if sealer.is_sealed(secret) == seal:
            continue  # already as wanted
        value = sealer.seal(secret) if seal else sealer.open(secret)
        connection.execute(SUBSCRIPTIONS.update().where(SUBSCRIPTIONS.c.id == ident).values(secret=value))


def upgrade() -> None:
    _rewrite(seal=True)


def downgrade() -> None:
    _rewrite(seal=False)
