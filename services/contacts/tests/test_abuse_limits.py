"""Integration: request bodies over a route's limit get 413, callers over their budget get 429."""

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from contacts.config import Settings
from contacts.main import create_app
from crm_devstack.testing import unique_email
from crm_shared.config import AuthSettings, LimitSettings
from crm_shared.http.auth import mint_token

pytestmark = pytest.mark.integration


@pytest_asyncio.fixture
async def strict_contacts(dev_stack) -> AsyncIterator[httpx.AsyncClient]:
    """A contacts api on the real database with small limits (the shared one's are lifted for tests)."""
    limits = LimitSettings(read_rate="3/minute", write_rate="20/minute", import_rate="5/minute", max_body_bytes=2048)
    app = create_app(Settings(limits=limits))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://contacts") as client:
            yield client


def bearer(subject: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(AuthSettings(), subject=subject)}"}


async def test_a_body_over_the_default_limit_is_refused_with_413_and_stores_nothing(strict_contacts) -> None:
    email = unique_email()
    body = {"name": "Big Corp", "email": email, "attributes": {"note": "x" * 3000}}
    response = await strict_contacts.post("/v1/customers", json=body, headers=bearer("big-writer"))
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413 and "2,048 bytes" in response.json()["detail"]

    async def chunks():  # no Content-Length: counted while it is read
        yield b'{"name": "Big Corp", "email": "' + email.encode() + b'", "tags": ['
        for _ in range(200):
            yield b'"aaaaaaaaaaaaaaaaaaaa",'
        yield b'"a"]}'

    streamed = await strict_contacts.post(
        "/v1/customers", content=chunks(), headers=bearer("big-writer") | {"content-type": "application/json"}
    )
    assert streamed.status_code == 413 and streamed.json()["title"] == "Content too large"
    found = await strict_contacts.get("/v1/customers", params={"email": email}, headers=bearer("reader-of-big"))
    assert found.json()["items"] == []


async def test_an_import_takes_a_body_larger_than_the_default_limit(strict_contacts) -> None:
    rows = "".join(f"erp:BIG-{i},Big Row {i} {'y' * 20}\n" for i in range(100))
    csv = ("external_id,name\n" + rows).encode()
    assert len(csv) > 2048
    response = await strict_contacts.post(
        "/v1/imports",
        params={"kind": "customers"},
        content=csv,
        headers=bearer("importer") | {"content-type": "text/csv"},
    )
    assert response.status_code == 202, response.text


async def test_a_caller_over_its_read_budget_gets_429_with_retry_after_and_others_go_on(strict_contacts) -> None:
    alice, bob = bearer("limit-alice"), bearer("limit-bob")
    for _ in range(3):
        assert (await strict_contacts.get("/v1/customers", headers=alice)).status_code == 200
    refused = await strict_contacts.get("/v1/customers", headers=alice)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["type"].endswith("/rate-limited")
    # Keyed by the token's subject: another caller has its own budget; writes have theirs.
    assert (await strict_contacts.get("/v1/customers", headers=bob)).status_code == 200
    write = await strict_contacts.post("/v1/customers", json={"name": "Still Writes"}, headers=alice)
    assert write.status_code == 201, write.text
    # The services' own tokens are never limited (their bursts are their callers' bursts).
    service = bearer("service:feedback")
    for _ in range(5):
        assert (await strict_contacts.get("/v1/customers", headers=service)).status_code == 200
        # Without a token the client address is the key (the 401s count against it).
    for _ in range(3):
        assert (await strict_contacts.get("/v1/customers")).status_code == 401
    assert (await strict_contacts.get("/v1/customers")).status_code == 429


async def test_the_openapi_documents_413_and_429_with_retry_after(services) -> None:
    schema = (await services.contacts.get("/openapi.json")).json()
    create = schema["paths"]["/v1/customers"]["post"]["responses"]
    listing = schema["paths"]["/v1/customers"]["get"]["responses"]
    assert "413" in create and "413" not in listing
    for responses in (create, listing):
        assert responses["429"]["content"]["application/problem+json"]
        assert "Retry-After" in responses["429"]["headers"]
