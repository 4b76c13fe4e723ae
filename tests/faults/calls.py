"""What every fault test does around its fault: a call centre posting complaints, then exact counts.

Like a call centre, the client retries a complaint with the same Idempotency-Key when it gets no
answer (connection refused while an api is down) or a 503. Afterwards every complaint the api
accepted must have exactly one feedback row, exactly one score change caused by it and exactly
one service-recovery task.
"""

import asyncio
import time
import uuid
from collections import Counter

import httpx

from crm_devstack.testing import unique_email


class CallCentre:
    """Posts one complaint per customer, retrying each with its key until it is accepted."""

    def __init__(self, feedback: httpx.AsyncClient) -> None:
        self.feedback = feedback
        self.statuses: Counter[int] = Counter()
        self.unanswered = 0
        self.missing_retry_after = 0
        self.accepted: dict[str, dict] = {}  # customer id -> feedback

    async def complain(self, customer_id: str, duplicate: bool) -> None:
        key = {"Idempotency-Key": f"call-{uuid.uuid4()}"}
        body = {
            "customer_id": customer_id,
            "type": "complaint",
            "category": "service.delivery",
            "severity": "medium",
            "channel": "phone",
            "description": "Order still missing.",
        }
        first = await self._post_until_accepted(body, key, customer_id)
        self.accepted[customer_id] = first
        if duplicate:  # the integration retries although it got its answer
            again = await self._post_until_accepted(body, key, customer_id)
            assert again["id"] == first["id"]

    async def _post_until_accepted(self, body: dict, key: dict, customer_id: str) -> dict:
        """What a well-behaved integration does: retry with the same key until it gets a 201."""
        deadline = time.monotonic() + 90
        while True:
            try:
                response = await self.feedback.post("/v1/feedback", json=body, headers=key)
            except httpx.TransportError:
                self.unanswered += 1
                response = None
            if response is not None:
                self.statuses[response.status_code] += 1
                if response.status_code == 201:
                    return response.json()
                if response.status_code == 503 and "retry-after" not in response.headers:
                    self.missing_retry_after += 1
            assert time.monotonic() < deadline, f"complaint for {customer_id} never accepted"
            await asyncio.sleep(0.2)

    def assert_only_503_with_retry_after(self) -> None:
        assert set(self.statuses) <= {201, 503}, self.statuses
        assert self.missing_retry_after == 0


async def create_customers(contacts: httpx.AsyncClient, count: int) -> list[str]:
    customers = []
    for _ in range(count):
        created = await contacts.post(
            "/v1/customers",
            json={"name": "Fault Co", "email": unique_email("fault"), "tier": "silver", "owner": "olga"},
        )
        assert created.status_code == 201
        customers.append(created.json()["id"])
    return customers


class Outcome:
    """Reads, per customer, what the system made of the complaint: (feedback, score changes, tasks)."""

    def __init__(
        self, feedback: httpx.AsyncClient, scoring: httpx.AsyncClient, notifications: httpx.AsyncClient
    ) -> None:
        self.feedback, self.scoring, self.notifications = feedback, scoring, notifications

    async def _items(self, client: httpx.AsyncClient, path: str, **params: str) -> list[dict]:
        for _ in range(50):  # a read right after a PostgreSQL restart may get a 503: retry it
            response = await client.get(path, params=params)
            if response.status_code != 503:
                assert response.status_code == 200, response.text
                return response.json()["items"]
            await asyncio.sleep(0.2)
        raise AssertionError(f"{path} kept answering 503")

    async def counts(self, customer_id: str) -> tuple[int, int, int]:
        stored = await self._items(self.feedback, "/v1/feedback", customer_id=customer_id)
        history = await self._items(self.scoring, f"/v1/scores/{customer_id}/history")
        tasks = await self._items(self.notifications, "/v1/tasks", customer_id=customer_id)
        return (
            len(stored),
            len([h for h in history if h["cause_event_type"] == "crm.feedback.received.v1"]),
            len([t for t in tasks if t["type"] == "service_recovery"]),
        )

    async def assert_each_exactly_once(self, customers: list[str], timeout: float = 120) -> None:
        """Every complaint reaches (1, 1, 1); a few seconds later still exactly that (no late doubles)."""
        pending = set(customers)
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for customer_id in list(pending):
                if await self.counts(customer_id) == (1, 1, 1):
                    pending.discard(customer_id)
            if pending:
                await asyncio.sleep(1)
        if pending:
            example = next(iter(pending))
            raise AssertionError(
                f"{len(pending)} complaints incomplete, e.g. {example}: {await self.counts(example)} "
                "(feedback, score changes, tasks)"
            )
        await asyncio.sleep(3)  # anything doubled by a late redelivery would show now
        final = Counter([await self.counts(customer_id) for customer_id in customers])
        assert final == Counter({(1, 1, 1): len(customers)})
