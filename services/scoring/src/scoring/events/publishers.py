"""Events the scoring service produces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from crm_shared.contracts import Envelope, new_event
from crm_shared.contracts.events import ScoreChangedV2, ScoreSet
from crm_shared.contracts.vocabulary import Band, CreditStanding
from scoring.calculation import Score

SOURCE = "crm/scoring"


def score_changed(
    customer_id: uuid.UUID,
    model_version: str,
    previous: dict[str, Any] | None,
    current: Score,
    changed: list[str],
    *,
    cause_event_id: uuid.UUID,
    cause_event_type: str,
    rescore_run_id: uuid.UUID | None,
    computed_at: datetime,
    credit: str | None = None,
) -> Envelope:
    """`crm.score.changed.v2` (the caller stages it with `add_event(s)` on `Topics.scores`)."""
    data = ScoreChangedV2(
        customer_id=customer_id,
        model_version=model_version,
        previous=ScoreSet(**previous) if previous else None,
        current=ScoreSet(**current.values()),
        changed=changed,
        band_from=Band(previous["band"]) if previous else None,
        band_to=current.band,
        cause_event_id=cause_event_id,
        cause_event_type=cause_event_type,
        rescore_run_id=rescore_run_id,
        computed_at=computed_at,
        credit=CreditStanding(credit) if credit else None,
    )
    return new_event(type="crm.score.changed.v2", source=SOURCE, subject=customer_id, data=data)
