"""Integration: stray and unclosed quotes in a CSV import cost their own rows, never the file."""

import uuid

import pytest

from crm_devstack.testing import eventually

pytestmark = pytest.mark.integration

CSV = {"Content-Type": "text/csv"}
HEADER = "external_id,name,email,phone,tier,owner,industry\n"


async def imported(services, body: str) -> tuple[dict, dict[int, dict]]:
    response = await services.contacts.post(
        "/v1/imports", params={"kind": "customers"}, content=body.encode(), headers=CSV
    )
    assert response.status_code == 202, response.text

    async def done():
        job = (await services.contacts.get(f"/v1/imports/{response.json()['id']}")).json()
        return job if job["status"] in ("completed", "failed") else None

    job = await eventually(done)
    assert job["status"] == "completed", job
    page = (await services.contacts.get(f"/v1/imports/{job['id']}/errors")).json()
    return job, {e["row_number"]: e for e in page["items"]}


async def customer(services, external_id: str) -> dict | None:
    items = (await services.contacts.get("/v1/customers", params={"external_id": external_id})).json()["items"]
    return items[0] if items else None


async def test_a_quote_inside_an_unquoted_field_imports_the_row_with_its_text_intact(services) -> None:
    tag = uuid.uuid4().hex[:8]
    body = (
        HEADER
        + f'erp:{tag}-A1,Acme Pipes {tag},a-{tag}@example.com,,bronze,alice,Pipe 12" steel\n'
        + f"erp:{tag}-A2,Bolt Co {tag},b-{tag}@example.com,,silver,bob,bolts\n"
    )
    job, errors = await imported(services, body)
    assert (job["rows_received"], job["created"], job["failed"]) == (2, 2, 0), errors
    pipes = await customer(services, f"erp:{tag}-A1")
    assert (pipes["name"], pipes["industry"]) == (f"Acme Pipes {tag}", 'Pipe 12" steel')
    assert (await customer(services, f"erp:{tag}-A2"))["industry"] == "bolts"


async def test_an_unclosed_quote_costs_only_the_rows_it_swallows_and_the_rows_after_it_import(services) -> None:
    tag = uuid.uuid4().hex[:8]
    padding = "x" * 80
    swallowed = "".join(f"erp:{tag}-S{n},Swallowed {n},,,,,{padding}\n" for n in range(1000))  # > 65,536 characters
    body = (
        HEADER
        + f"erp:{tag}-B1,Before {tag},,,,,\n"
        + f'erp:{tag}-B2,"Broken {tag},,,,,\n'
        + swallowed
        + f"erp:{tag}-Z1,After {tag},,,,,\n"
    )
    job, errors = await imported(services, body)
    assert job["failed"] == 1 and job["created"] == job["rows_received"] - 1
    broken = errors[2]
    assert broken["line"] == 3 and broken["errors"][0]["code"] == "unreadable"
    assert "quoted field opened at line 3 is not closed" in broken["errors"][0]["message"]
    assert await customer(services, f"erp:{tag}-B1") is not None
    assert await customer(services, f"erp:{tag}-B2") is None
    assert await customer(services, f"erp:{tag}-S0") is None  # swallowed by the open quote
    assert await customer(services, f"erp:{tag}-S999") is not None  # after the cap: read normally
    assert (await customer(services, f"erp:{tag}-Z1"))["name"] == f"After {tag}"
