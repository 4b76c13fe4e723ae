"""The key-account programme's yearly check (docs/domain.md#the-key-account-programme): a key
account with no senior-management visit open or made in the last year gets one, once. The check
takes `now` as a parameter (the worker passes the clock), so a year passes without waiting."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.db import unit_of_work
from crm_shared.projections import get_customer
from notifications.keyaccounts import service

pytestmark = pytest.mark.integration


async def visits(services, customer_id: str) -> list[dict]:
    response = await services.notifications.get("/v1/tasks", params={"customer_id": customer_id})
    return [t for t in response.json()["items"] if t["type"] == "leadership_visit"]


async def check(services, now: datetime) -> None:
    worker = services.workers["notifications"]
    while True:
        async with unit_of_work(worker.sessions, worker.publisher.dispatch) as session:
            if await service.plan_visits(session, now) < 500:
                return


async def test_every_key_account_gets_a_senior_management_visit_at_least_yearly(services) -> None:
    body = {
        "name": "Wayne Enterprises",
        "email": unique_email(),
        "phone": unique_phone(),
        "tier": "key",
        "owner": "alf",
    }
    customer = (await services.contacts.post("/v1/customers", json=body)).json()
    cid = customer["id"]

    async def projected():
        async with services.workers["notifications"].sessions() as session:
            return await get_customer(session, uuid.UUID(cid))

    await eventually(projected)
    assert await visits(services, cid) == []  # created as key: no tier change, no playbook

    now = datetime.now(UTC)
    await check(services, now)
    await check(services, now + timedelta(hours=1))  # once
    [visit] = await eventually(lambda: visits(services, cid))
    assert visit["assignee"] == "alf" and visit["playbook"] == "key_account_yearly_visit"

    await check(services, now + timedelta(days=400))  # still open: nothing new
    assert len(await visits(services, cid)) == 1
    done = await services.notifications.post(f"/v1/tasks/{visit['id']}/complete", json={"outcome": "visited"})
    assert done.status_code == 200, done.text
    await check(services, now + timedelta(days=400))  # done, and a year has passed: the next one

    async def second():
        found = await visits(services, cid)
        return found if len(found) == 2 else None

    await eventually(second)
