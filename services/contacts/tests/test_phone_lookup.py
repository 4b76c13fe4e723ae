"""Integration: finding customers by a phone number written without its country code."""

import random

import pytest

from crm_devstack.testing import unique_email

pytestmark = pytest.mark.integration


async def customer_with_phone(services, phone: str) -> dict:
    """Other tests of the session may have created the customer already (phones are unique)."""
    found = (await services.contacts.get("/v1/customers", params={"phone": phone})).json()["items"]
    if found:
        return found[0]
    body = {"name": f"Caller {phone}", "email": unique_email(), "phone": phone, "tier": "silver"}
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def listed(services, phone: str) -> list[str]:
    response = await services.contacts.get("/v1/customers", params={"phone": phone})
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


async def test_a_number_without_its_country_finds_its_holder_though_it_reads_as_a_local_number(services) -> None:
    # 13865211866 also reads as a valid US number (+1 386-521-1866), which nobody holds.
    customer = await customer_with_phone(services, "+86 138 6521 1866")
    assert await listed(services, "13865211866") == [customer["id"]]


async def test_a_local_holder_of_the_number_comes_before_the_national_part_elsewhere(services) -> None:
    dialled = f"1386521{random.randrange(10**4):04d}"
    chinese = await customer_with_phone(services, "+86" + dialled)
    assert await listed(services, dialled) == [chinese["id"]]
    american = await customer_with_phone(services, "+1" + dialled[1:])
    assert await listed(services, dialled) == [american["id"]]
    austrian = await customer_with_phone(services, "+43" + dialled)
    assert await listed(services, "+43" + dialled) == [austrian["id"]]
