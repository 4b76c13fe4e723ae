"""Contract renewals (docs/domain.md#renewals): one task per contract, the tier's lead days before
it ends, for the account owner; none once a renewal was recorded. Time is a parameter of the
timer's `fire_due` (an injected `now`), never a sleep."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.db import unit_of_work
from notifications.renewals import service as renewals
from notifications.renewals.models import ContractRenewal

pytestmark = pytest.mark.integration


async def new_customer(services, tier: str, owner: str) -> dict:
    body = {"name": "Globex", "email": unique_email(), "phone": unique_phone(), "tier": tier, "owner": owner}
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def contract(services, customer_id: str, ends_on: date, renewal_of: str | None = None) -> str:
    details = {"kind": "contract", "starts_on": "2026-01-01", "ends_on": ends_on.isoformat()}
    if renewal_of:
        details["renewal_of"] = renewal_of
    response = await services.contacts.post(
        f"/v1/customers/{customer_id}/activities",
        json={"occurred_at": datetime.now(UTC).isoformat(), "details": details},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def renewal_row(services, contract_id: str) -> ContractRenewal | None:
    async with services.workers["notifications"].sessions() as session:
        return await session.get(ContractRenewal, uuid.UUID(contract_id))


async def renewal_tasks(services, customer_id: str) -> list[dict]:
    response = await services.notifications.get("/v1/tasks", params={"customer_id": customer_id})
    return [t for t in response.json()["items"] if t["type"] == "contract_renewal"]


async def fire_at(services, now: datetime) -> int:
    worker = services.workers["notifications"]
    async with unit_of_work(worker.sessions, worker.publisher.dispatch) as session:
        return await renewals.fire_due(session, now, 1000)


def test_the_lead_time_grows_with_the_tier() -> None:
    ends = date(2027, 6, 30)
    assert [renewals.fire_at(ends, t).date() for t in ("key", "gold", "silver", "bronze")] == [
        ends - timedelta(days=d) for d in (120, 90, 60, 30)
    ]
    made = datetime(2027, 6, 25, tzinfo=UTC)
    assert renewals.due_at(ends, made) == made + timedelta(days=1)  # late: due the next day


async def test_a_contract_gets_one_renewal_task_for_its_owner_at_the_tiers_lead_time(services) -> None:
    customer = await new_customer(services, "gold", "rita")
    ends_on = date.today() + timedelta(days=400)
    contract_id = await contract(services, customer["id"], ends_on)
    row = await eventually(lambda: renewal_row(services, contract_id))
    assert (row.status, row.fire_at.date()) == ("pending", ends_on - timedelta(days=90))

    assert await renewal_tasks(services, customer["id"]) == []
    await fire_at(services, row.fire_at - timedelta(minutes=1))
    assert (await renewal_row(services, contract_id)).status == "pending"  # not yet

    assert await fire_at(services, row.fire_at) >= 1
    assert await fire_at(services, row.fire_at + timedelta(days=1)) == 0  # once per contract
    [task] = await eventually(lambda: renewal_tasks(services, customer["id"]))
    assert task["assignee"] == "rita" and ends_on.isoformat() in task["title"]
    assert task["due_at"].startswith((ends_on - timedelta(days=14)).isoformat())
    assert (await renewal_row(services, contract_id)).status == "fired"


async def test_a_contract_renewed_in_time_needs_no_renewal_task(services) -> None:
    customer = await new_customer(services, "silver", "sam")
    ends_on = date.today() + timedelta(days=500)
    old = await contract(services, customer["id"], ends_on)
    await eventually(lambda: renewal_row(services, old))
    new = await contract(services, customer["id"], ends_on + timedelta(days=365), renewal_of=old)
    await eventually(lambda: renewal_row(services, new))
    assert (await renewal_row(services, old)).status == "renewed"
    await fire_at(services, renewals.fire_at(ends_on, "silver") + timedelta(days=1))
    assert (await renewal_row(services, old)).status == "renewed"
    async with services.workers["notifications"].sessions() as session:
        pending = await session.scalar(
            select(ContractRenewal.status).where(ContractRenewal.contract_id == uuid.UUID(new))
        )
    assert pending == "pending"
    assert await renewal_tasks(services, customer["id"]) == []
