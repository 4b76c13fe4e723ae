"""A call-centre simulator: a burst of buffered batches and single posts, with retries, duplicates and
bad records, against the in-process services (real PostgreSQL and broker).

What a call centre must be able to rely on: every valid complaint is stored exactly once, whatever
was re-sent and how; every bad record is answered with its own error and stores nothing; and the
rest of the platform (scoring, notifications) reacts to each complaint exactly once.
"""

import asyncio
import uuid

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.e2e

ITEMS = 200
BATCH = 50
IN_BATCHES = 150  # items 0..149 go in batches of 50, the rest as single posts
INVALID_EVERY = 5  # every 5th record is broken


def broken(index: int, body: dict) -> dict:
    """A different defect each time, as real source systems produce them."""
    defects = [
        {"severity": "apocalyptic"},
        {"description": ""},
        {"category": "product.smell"},
        {"type": "survey_response", "survey": {"metric": "nps", "score": 11}, "severity": None},
    ]
    return {k: v for k, v in (body | defects[index // INVALID_EVERY % len(defects)]).items() if v is not None}


async def new_customers(services, count: int) -> list[dict]:
    async def one() -> dict:
        body = {"name": "Caller", "email": unique_email("burst"), "phone": unique_phone(), "tier": "silver"}
        response = await services.contacts.post("/v1/customers", json=body | {"owner": "dispatch"})
        assert response.status_code == 201, response.text
        return response.json()

    customers: list[dict] = []
    for start in range(0, count, 20):
        customers += await asyncio.gather(*(one() for _ in range(min(20, count - start))))
    return customers


async def test_a_burst_with_retries_and_duplicates_stores_and_reacts_to_each_complaint_once(services) -> None:
    valid_indexes = [i for i in range(ITEMS) if i % INVALID_EVERY != INVALID_EVERY - 1]
    customers = dict(zip(valid_indexes, await new_customers(services, len(valid_indexes)), strict=True))
    spare = (await new_customers(services, 1))[0]  # broken records name a real customer: only the defect fails them
    run = uuid.uuid4().hex[:8]
    items: list[dict] = []
    for i in range(ITEMS):
        customer = customers.get(i, spare)
        who = {"customer_id": customer["id"]} if i % 2 else {"customer": {"phone": customer["phone"]}}
        body = who | {
            "type": "complaint",
            "category": "service.delivery",
            "severity": "medium",
            "channel": "phone",
            "description": f"Burst complaint {i}.",
            "source_system": "callcentre",
            "external_ref": f"CC-{run}-{i:04d}",
        }
        items.append(body if i in customers else broken(i, body))

    async def post_batch(start: int, key: str | None) -> list[tuple[int, int, bool]]:
        headers = {"Idempotency-Key": key} if key else {}
        response = await services.feedback.post(
            "/v1/feedback/batch", json={"items": items[start : start + BATCH]}, headers=headers, timeout=60
        )
        assert response.status_code == 200, response.text
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        results = response.json()["results"]
        assert [r["index"] for r in results] == list(range(len(results)))
        for r in results:
            if start + r["index"] in customers:
                assert (
                    r["status"] in (200, 201)
                    and r["feedback"]["external_ref"] == items[start + r["index"]]["external_ref"]
                ), r
            else:
                assert r["status"] == 422 and r["errors"] and "feedback" not in r, r
        return [(start + r["index"], r["status"], replayed) for r in results]

    async def post_one(i: int, key: str | None) -> list[tuple[int, int, bool]]:
        headers = {"Idempotency-Key": key} if key else {}
        response = await services.feedback.post("/v1/feedback", json=items[i], headers=headers)
        if i in customers:
            assert response.status_code in (200, 201), response.text
        else:
            assert response.status_code == 422 and response.json()["errors"], response.text
        return [(i, response.status_code, response.headers.get("Idempotent-Replayed") == "true")]

    attempts = []
    for start in range(0, IN_BATCHES, BATCH):
        key = f"batch-{run}-{start}"
        # The buffer flushes, times out, flushes again with the same key, and is later re-sent
        # by an operator under a new key.
        attempts += [post_batch(start, key), post_batch(start, key), post_batch(start, f"resend-{uuid.uuid4()}")]
    for i in range(IN_BATCHES, ITEMS):
        key = f"call-{run}-{i}"
        attempts += [post_one(i, key), post_one(i, key), post_one(i, None)]
    for i in range(0, IN_BATCHES, 7):  # an agent also keys a buffered record by hand
        attempts.append(post_one(i, f"agent-{uuid.uuid4()}"))
    answers = [a for answer in await asyncio.gather(*attempts) for a in answer]

    # Exactly one answer per valid record said "stored" first-hand (replays repeat it, marked).
    first_hand = {}
    for i, status, replayed in answers:
        if status == 201 and not replayed:
            first_hand[i] = first_hand.get(i, 0) + 1
    assert first_hand == dict.fromkeys(customers, 1)

    async def stored(i: int) -> list[dict]:
        response = await services.feedback.get("/v1/feedback", params={"external_ref": items[i]["external_ref"]})
        return response.json()["items"]

    counts = [await stored(i) for i in range(ITEMS)]
    assert [len(c) for c in counts] == [1 if i in customers else 0 for i in range(ITEMS)]
    for i, customer in customers.items():
        assert counts[i][0]["customer_id"] == customer["id"]
    assert (await services.feedback.get("/v1/feedback", params={"customer_id": spare["id"]})).json()["items"] == []

    async def recovery_tasks(customer: dict) -> list[dict]:
        response = await services.notifications.get("/v1/tasks", params={"customer_id": customer["id"]})
        return [t for t in response.json()["items"] if t["type"] == "service_recovery"]

    async def complaints_scored(customer: dict) -> int:
        response = await services.scoring.get(f"/v1/scores/{customer['id']}/history")
        history = response.json()["items"] if response.status_code == 200 else []
        return len([h for h in history if h["cause_event_type"] == "crm.feedback.received.v1"])

    limit = asyncio.Semaphore(8)  # the in-process apis share this test's event loop

    async def reactions(customer: dict) -> tuple[int, int]:
        async with limit:
            return len(await recovery_tasks(customer)), await complaints_scored(customer)

    async def all_reacted() -> bool:
        return all(t and s for t, s in await asyncio.gather(*(reactions(c) for c in customers.values())))

    await eventually(all_reacted, timeout=90, interval=0.5)
    await asyncio.sleep(1.5)  # let any duplicate reaction arrive before counting
    assert await asyncio.gather(*(reactions(c) for c in customers.values())) == [(1, 1)] * len(customers)
