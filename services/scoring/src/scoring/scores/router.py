from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.responses import StreamingResponse

from crm_shared.http import live
from crm_shared.http.access_log import record_access
from crm_shared.http.app import SessionDep
from crm_shared.http.auth import Principal, require
from crm_shared.http.idempotency import Idempotency
from crm_shared.http.problems import ValidationFailed
from crm_shared.http.query import IsoDateTime
from crm_shared.http.responses import JsonResponse
from scoring.scores import daily, reads, rescoring
from scoring.scores.schemas import (
    DailyRunCreate,
    ExplanationRead,
    HistoryFilters,
    RescoreRunCreate,
    RescoreRunFilters,
    RescoreRunPage,
    RescoreRunRead,
    ScorecardPage,
    ScorecardRead,
    ScorecardWrite,
    ScoreHistoryPage,
    ScoreRead,
)

router = APIRouter(prefix="/v1/scores", tags=["scores"])
scorecard_router = APIRouter(prefix="/v1/scorecard", tags=["scorecard"])
runs_router = APIRouter(prefix="/v1/rescore-runs", tags=["rescore runs"])
daily_runs_router = APIRouter(prefix="/v1/daily-runs", tags=["rescore runs"])
live_router = APIRouter(prefix="/v1/live", tags=["live"])
# Every change of a customer's scores (customer_scores' trigger, migration 0006_console_server).
SCORES_FEED = live.LiveFeed(channel="crm_live_scores", event="score", filters={"customer_id": ("customer_id",)})


def _aware(at: datetime | None, field: str) -> datetime | None:
    if at is not None and at.tzinfo is None:
        raise ValidationFailed(field, "needs a time zone (e.g. Z or +01:00)", "naive_datetime")
    return at


@router.get(
    "/{customer_id}",
    response_model=ScoreRead,
    summary="A customer's five scores and band, with their explanation",
    description="Satisfaction, loyalty, value, churn risk (higher is worse) and overall health, 0-100, "
    "the band playbooks react to, the scorecard version, the events that last moved them, and every "
    "component (docs/scoring.md).",
)
async def get_score(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("scores:read"))],
) -> ScoreRead:
    score = ScoreRead.model_validate(await reads.get_score(session, customer_id))
    await record_access(request, session, [customer_id])
    return score


@router.get(
    "/{customer_id}/history",
    response_model=ScoreHistoryPage,
    summary="Every change of a customer's scores, newest first, with the event that caused it",
    responses={422: {"description": "`since`/`until` without a time zone"}},
)
async def get_history(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("scores:read"))],
    filters: Annotated[HistoryFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ScoreHistoryPage:
    _aware(filters.since, "since")
    _aware(filters.until, "until")
    page = await reads.score_history(session, customer_id, filters=filters, limit=limit, cursor=cursor)
    await record_access(request, session, [customer_id])
    return page


@router.get(
    "/{customer_id}/explanation",
    response_model=ExplanationRead,
    summary="Why the scores were what they were at a time: the changes in a window, their causes, component deltas",
    description="`at` (default now) and a window before it (`window_hours`, default 24): the scores in "
    "force at `at`, those in force before the window, each score's and component's change between the "
    "two in numbers and words, and every change in the window with its cause event (id and type).",
    responses={422: {"description": "`at` without a time zone"}},
)
async def get_explanation(
    customer_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    _: Annotated[Principal, Depends(require("scores:read"))],
    at: Annotated[IsoDateTime | None, Query(description="ISO time with zone; default now.")] = None,
    window_hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24.0,
) -> ExplanationRead:
    when = _aware(at, "at") or datetime.now(UTC)
    explanation = await reads.explain(session, customer_id, when, timedelta(hours=window_hours))
    await record_access(request, session, [customer_id])
    return explanation


@scorecard_router.get(
    "", response_model=ScorecardRead, summary="The current scorecard (the scoring model's parameters)"
)
async def get_scorecard(session: SessionDep, _: Annotated[Principal, Depends(require("scores:read"))]) -> ScorecardRead:
    return await rescoring.current_scorecard(session)


@scorecard_router.put(
    "",
    response_model=ScorecardRead,
    summary="Publish a new scorecard version (admin)",
    description="Stores a new version; events use it from then on. Validated: health weights sum to 1, "
    "band floors ordered, severity weights ordered, half-lives at least a day (422 otherwise). "
    "`rescore: true` also starts a rescore run of every customer (`rescore_run` in the answer). "
    "Customers keep their scores from the old version until an event or a run rescores them. "
    "`Idempotency-Key` makes a retry safe.",
    responses={422: {"description": "The scorecard breaks a rule (errors name the fields)"}},
)
async def put_scorecard(
    request: Request,
    body: ScorecardWrite,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
) -> JsonResponse:
    idempotency = Idempotency.from_request(request, session, principal, "scorecard.put")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response()
    payload = (await rescoring.put_scorecard(session, body, principal.subject)).model_dump(mode="json")
    await idempotency.complete(200, payload)
    return JsonResponse(payload)


@scorecard_router.get("/versions", response_model=ScorecardPage, summary="Every scorecard version, newest first")
async def list_scorecards(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("scores:read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ScorecardPage:
    return await rescoring.scorecard_versions(session, limit=limit, cursor=cursor)


@runs_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RescoreRunRead,
    summary="Rescore every customer with the current scorecard (admin)",
    description="Queues a run the scoring worker applies in batches (`GET /v1/rescore-runs/{id}` for "
    "progress). `{}` runs the current scorecard. Each customer whose scores move gets a history row "
    "with the new model version and a `crm.score.changed.v2` naming the run. `Idempotency-Key` makes "
    "a retry safe.",
    responses={
        202: {
            "description": "Accepted: the run is queued.",
            "headers": {"Location": {"description": "`/v1/rescore-runs/{id}`", "schema": {"type": "string"}}},
        },
        422: {"description": "`scorecard_version` is not the current one"},
    },
)
async def create_run(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
    body: RescoreRunCreate | None = None,
) -> JsonResponse:
    body = body or RescoreRunCreate()
    idempotency = Idempotency.from_request(request, session, principal, "rescore_runs.create")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response({"Location": f"/v1/rescore-runs/{replay.body['id']}"})
    run = await rescoring.create_run(session, body.scorecard_version, principal.subject)
    payload = RescoreRunRead.model_validate(run).model_dump(mode="json")
    await idempotency.complete(202, payload)
    return JsonResponse(payload, status_code=202, headers={"Location": f"/v1/rescore-runs/{run.id}"})


@runs_router.get("", response_model=RescoreRunPage, summary="Rescore runs, newest first")
async def list_runs(
    session: SessionDep,
    _: Annotated[Principal, Depends(require("scores:read"))],
    filters: Annotated[RescoreRunFilters, Depends()],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> RescoreRunPage:
    return await rescoring.list_runs(session, status=filters.status, limit=limit, cursor=cursor)


@runs_router.get("/{run_id}", response_model=RescoreRunRead, summary="A rescore run's progress")
async def get_run(
    run_id: uuid.UUID, session: SessionDep, _: Annotated[Principal, Depends(require("scores:read"))]
) -> RescoreRunRead:
    return RescoreRunRead.model_validate(await rescoring.get_run(session, run_id))


@daily_runs_router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RescoreRunRead,
    summary="Evaluate every customer as of now, on demand (admin)",
    description="Queues a daily run (time-aware scoring, docs/scoring.md): each customer's scores are "
    "recomputed at `as_of` (default now) with no new event, so silence against the ordering rhythm, "
    "contracts about to lapse and faded feedback show. Only customers whose scores move are written, "
    "each with a history row and a `crm.score.changed.v2` (cause `crm.scoring.daily_run`) whose band "
    "drops open retention tasks. The worker queues one run a day by itself; progress at "
    "`GET /v1/rescore-runs/{id}`. `Idempotency-Key` makes a retry safe.",
    responses={
        202: {
            "description": "Accepted: the run is queued.",
            "headers": {"Location": {"description": "`/v1/rescore-runs/{id}`", "schema": {"type": "string"}}},
        }
    },
)
async def create_daily_run(
    request: Request,
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin"))],
    body: DailyRunCreate | None = None,
) -> JsonResponse:
    body = body or DailyRunCreate()
    idempotency = Idempotency.from_request(request, session, principal, "daily_runs.create")
    if replay := await idempotency.begin(body.model_dump(mode="json")):
        return replay.response({"Location": f"/v1/rescore-runs/{replay.body['id']}"})
    run = await daily.create_run(session, body.as_of, principal.subject, body.customer_ids)
    payload = RescoreRunRead.model_validate(run).model_dump(mode="json")
    await idempotency.complete(202, payload)
    return JsonResponse(payload, status_code=202, headers={"Location": f"/v1/rescore-runs/{run.id}"})


@live_router.get(
    "",
    summary="Live score changes (server-sent events)",
    description="A `text/event-stream`: each change of a customer's scores (of `customer_id`, or of every customer) "
    "as an `event: score` whose data is what `GET /v1/scores/{customer_id}` returns (the five scores, band and "
    "explanation); `: keepalive` comments every 15 s; `event: resync` when changes may have been missed.",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_scores(
    request: Request,
    _: Annotated[Principal, Depends(require("scores:read"))],
    customer_id: uuid.UUID | None = None,
) -> StreamingResponse:
    return live.stream(request, SCORES_FEED.event, {"customer_id": str(customer_id) if customer_id else None})
