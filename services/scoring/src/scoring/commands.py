"""Scoring's crmctl commands (declared in its manifest): `crmctl rescore` drives a rescore run,
`crmctl daily-run` a daily run (every customer evaluated as of now).

Here, not in crmctl, because only scoring knows its rescore api and run states; crmctl resolves
the declared target when the command runs and never imports a service.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

# States of a rescore run (scores.schemas) that are still going.
RUNNING_STATES = {"queued", "running"}


async def rescore(
    url: str,
    token: str,
    interval: float = 1.0,
    timeout: float = 3600.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """POST /v1/rescore-runs, then poll the run and print its progress until it ends."""
    return await _drive("/v1/rescore-runs", "rescore", url, token, interval, timeout, transport)


async def daily_run(
    url: str,
    token: str,
    interval: float = 1.0,
    timeout: float = 3600.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    """POST /v1/daily-runs (as of now, every customer), then poll the run until it ends."""
    return await _drive("/v1/daily-runs", "daily", url, token, interval, timeout, transport)


async def _drive(
    path: str,
    what: str,
    url: str,
    token: str,
    interval: float,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None,
) -> int:
    async with httpx.AsyncClient(
        base_url=url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        transport=transport,
    ) as client:
        response = await client.post(path, json={})
        if response.status_code not in (200, 201, 202):
            print(f"{what} refused: {response.status_code} {response.text[:500]}", file=sys.stderr)
            return 1
        run = response.json()
        print(f"{what} run {run['id']} started")
        deadline = time.monotonic() + timeout
        while True:
            print(f"  {run['status']}: {run.get('done', 0)}/{run.get('total', '?')}", flush=True)
            if run["status"] not in RUNNING_STATES:
                break
            if time.monotonic() > deadline:
                print("gave up waiting; the run goes on in the scoring worker", file=sys.stderr)
                return 1
            await asyncio.sleep(interval)
            response = await client.get(f"/v1/rescore-runs/{run['id']}")
            if response.status_code != 200:
                print(f"progress unavailable: {response.status_code} {response.text[:300]}", file=sys.stderr)
                return 1
            run = response.json()
    if run["status"] == "superseded":
        print("superseded: a newer scorecard started its own run, which goes on in the scoring worker", file=sys.stderr)
    return 0 if run["status"] == "done" else 1
