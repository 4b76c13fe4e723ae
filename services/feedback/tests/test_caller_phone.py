"""Integration: a caller's number written without its country code (real PostgreSQL and broker)."""

import random

import pytest

from crm_devstack.testing import eventually, unique_email

pytestmark = pytest.mark.integration

# +86 138 6521 1866 dialled without its country: it also reads as a valid US number (+1 386-521-1866).
CHINESE_MOBILE = "+86 138 6521 1866"
DIALLED = "13865211866"


async def customer_with_phone(services, phone: str) -> dict:
    """Other tests of the session may have created the customer already (phones are unique)."""
    found = (await services.contacts.get("/v1/customers", params={"phone": phone})).json()["items"]
    if found:
        return found[0]
    body = {"name": f"Caller {phone}", "email": unique_email(), "phone": phone, "tier": "silver", "owner": "bob"}
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def complaint(**overrides) -> dict:
    return {
        "type": "complaint",
        "category": "service.delivery",
        "severity": "high",
        "channel": "phone",
        "description": "The pipes came two weeks late.",
    } | overrides


async def test_a_number_without_its_country_finds_the_caller_though_it_reads_as_a_local_number(services) -> None:
    customer = await customer_with_phone(services, CHINESE_MOBILE)
    response = await services.feedback.post("/v1/feedback", json=complaint(customer={"phone": DIALLED}))
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == customer["id"]

    async def tasks():
        return (await services.notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()["items"]

    assert await eventually(tasks)


async def test_a_batch_item_with_a_number_without_its_country_finds_the_caller(services) -> None:
    customer = await customer_with_phone(services, CHINESE_MOBILE)
    items = [complaint(customer={"phone": DIALLED})]
    response = await services.feedback.post("/v1/feedback/batch", json={"items": items})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == 201, result
    assert result["feedback"]["customer_id"] == customer["id"]


async def test_a_number_without_its_country_held_by_two_customers_is_ambiguous(services) -> None:
    dialled = f"1386521{random.randrange(10**4):04d}"  # valid in the US, in China and in Austria
    for country in ("+86", "+43"):
        await customer_with_phone(services, country + dialled)
    response = await services.feedback.post("/v1/feedback", json=complaint(customer={"phone": dialled}))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "ambiguous_identifier"
    assert response.json()["errors"][0]["field"] == "customer.phone"
