"""Events the scoring service produces."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts import Envelope, Topics, new_event
from crm_shared.contracts.events import ScoreChangedV1, ScoreValues
from crm_shared.contracts.vocabulary import Band
from crm_shared.messaging.outbox import add_event
from scoring.scores.model import MODEL_VERSION, Score

SOURCE = "crm/scoring"


async def publish_score_changed(
    session: AsyncSession,
    customer_id: uuid.UUID,
    previous: tuple[float, float, Band] | None,
    current: Score,
    cause: Envelope,
    computed_at: datetime,
) -> None:
    data = ScoreChangedV1(
        customer_id=customer_id,
        model_version=MODEL_VERSION,
        previous=ScoreValues(satisfaction=previous[0], health=previous[1], band=previous[2]) if previous else None,
        current=ScoreValues(satisfaction=current.satisfaction, health=current.health, band=current.band),
        band_from=previous[2] if previous else None,
        band_to=current.band,
        cause_event_id=cause.id,
        cause_event_type=cause.type,
        computed_at=computed_at,
    )
    await add_event(
        session, new_event(type="crm.score.changed.v1", source=SOURCE, subject=customer_id, data=data), Topics.scores
    )
