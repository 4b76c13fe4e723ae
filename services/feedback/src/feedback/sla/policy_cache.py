"""The SLA policy in force as new cases read it: kept per process for a few seconds.

Every case that starts its clocks needs the policy in force, which changes a few times a year:
reading and validating it for each complaint was a query per complaint for nothing. A change made
through this process applies to the next case at once (`forget`); one made through another
replica of the api applies there within `TTL_SECONDS`. `GET /v1/sla-policy` always reads the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from feedback.sla.schemas import SlaPolicy

TTL_SECONDS = 5.0


class PolicyCache:
    """The policy per database (a test process may run several stacks), until it is `ttl` old."""

    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[str, tuple[float, SlaPolicy]] = {}

    def get(self, database: str) -> SlaPolicy | None:
        entry = self._entries.get(database)
        if entry is None or self.clock() >= entry[0]:
            return None
        return entry[1]

    def put(self, database: str, policy: SlaPolicy) -> None:
        self._entries[database] = (self.clock() + self.ttl, policy)

    def forget(self, database: str) -> None:
        self._entries.pop(database, None)
