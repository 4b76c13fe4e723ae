"""Faults only a real broker allows: Apache Kafka killed mid-burst, a consumer group losing a member.

Both keep the fault suite's promise (tests/faults/calls.py): every complaint the api accepted
ends with exactly one feedback, one score change and one service-recovery task.
"""

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from crm_devstack.kafka import ApacheKafkaBroker
from crm_devstack.testing import LiveSystem, eventually
from tests.faults.calls import CallCentre, Outcome, create_customers

pytestmark = pytest.mark.e2e

RATE = 8  # complaints per second while the fault happens
MAX_COMPLAINTS = 300


@asynccontextmanager
async def clients(system: LiveSystem, token: str) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    services = ("contacts", "feedback", "scoring", "notifications")
    opened = {s: system.client(s, token) for s in services}
    try:
        yield opened
    finally:
        for client in opened.values():
            await client.aclose()


async def burst(system: LiveSystem, token: str, fault: Callable[[], Awaitable[None]]) -> None:
    """Complaints at RATE while `fault` runs (and for a second after), then the exact counts."""
    async with clients(system, token) as http:
        customers = await create_customers(http["contacts"], MAX_COMPLAINTS)
        centre = CallCentre(http["feedback"])
        injected = asyncio.create_task(fault())
        calls: list[asyncio.Task[None]] = []
        while not injected.done():
            assert len(calls) < MAX_COMPLAINTS, "the fault took longer than the stream"
            calls.append(asyncio.create_task(centre.complain(customers[len(calls)], duplicate=len(calls) % 10 == 0)))
            await asyncio.sleep(1 / RATE)
        await injected
        await asyncio.gather(*calls)
        customers = customers[: len(calls)]
        print(f"\n{len(customers)} complaints; statuses {dict(centre.statuses)}, unanswered {centre.unanswered}")
        assert len(centre.accepted) == len(customers)
        centre.assert_only_503_with_retry_after()
        await Outcome(http["feedback"], http["scoring"], http["notifications"]).assert_each_exactly_once(customers)


def require_apache_kafka(system: LiveSystem) -> ApacheKafkaBroker:
    broker = system.stack.broker
    if not isinstance(broker, ApacheKafkaBroker):
        pytest.fail("broker faults need Apache Kafka (Tansu keeps nothing across a restart)", pytrace=False)
    return broker


async def test_broker_killed_mid_burst_and_restarted_on_its_data_loses_and_doubles_nothing(
    live_system: LiveSystem, token: str
) -> None:
    broker = require_apache_kafka(live_system)
    loop = asyncio.get_running_loop()

    async def kill_and_restart() -> None:
        await asyncio.sleep(2)
        pid = broker.pid
        broker.kill()  # SIGKILL: no controlled shutdown, no flush; acked records are in the OS's cache
        await asyncio.sleep(2)
        await loop.run_in_executor(None, broker.start)  # same data folder: log recovery, then serve
        assert broker.pid != pid
        await asyncio.sleep(2)

    await burst(live_system, token, kill_and_restart)


def assigned(system: LiveSystem, process: str, group: str) -> int | None:
    """Partitions `process` holds in `group` after its last rebalance (from the worker's log)."""
    count = None
    for line in (system.supervisor.log_dir / f"{process}.log").read_text(errors="replace").splitlines():
        if '"partitions assigned"' in line:
            entry = json.loads(line)
            if entry.get("consumer") == group:
                count = entry["partitions"]
    return count


async def test_a_group_member_killed_mid_burst_hands_its_partitions_to_the_other(
    live_system: LiveSystem, token: str
) -> None:
    require_apache_kafka(live_system)
    # A second replica of two workers: two members in each of their consumer groups. Each worker's
    # main group is named like its process (scoring-worker turns complaints into score changes,
    # notifications-worker into tasks).
    pairs = {"scoring-worker": "scoring-worker", "notifications-worker": "notifications-worker"}  # process: group
    for process in pairs:
        prefix = process.removesuffix("-worker").upper()
        live_system.supervisor.start_copy(process, f"{process}-2", env={f"{prefix}_METRICS_PORT": "0"})

    async def both_members_hold_partitions() -> bool:
        return all(
            (assigned(live_system, name, group) or 0) > 0
            for process, group in pairs.items()
            for name in (process, f"{process}-2")
        )

    await eventually(both_members_hold_partitions, timeout=60, interval=0.5)
    victims = {"scoring-worker": "scoring-worker", "notifications-worker-2": "notifications-worker"}
    survivors = {"scoring-worker-2": "scoring-worker", "notifications-worker": "notifications-worker"}
    before = {name: assigned(live_system, name, group) for name, group in survivors.items()}

    async def kill_one_member_of_each_group() -> None:
        await asyncio.sleep(2)
        for victim in victims:
            live_system.stop(victim, signal.SIGKILL)
            await asyncio.sleep(1)

        # The group coordinator notices after the session timeout and moves the partitions.
        async def taken_over() -> bool:
            return all((assigned(live_system, name, group) or 0) > before[name] for name, group in survivors.items())

        await eventually(taken_over, timeout=60, interval=0.5)
        await asyncio.sleep(2)

    await burst(live_system, token, kill_one_member_of_each_group)
