"""Integration: the console server before the real apis (PostgreSQL + broker): sign-in and the proxy."""

from __future__ import annotations

import uuid

import jwt
import pytest

from crm_console.users import DEV_USERS
from crm_devstack.testing import unique_email, unique_phone

pytestmark = pytest.mark.integration


async def dev_token(console, subject: str, role: str) -> str:
    answer = await console.post("/auth/dev/token", json={"subject": subject, "role": role})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    return body["access_token"]


async def test_dev_sign_in_lists_a_user_per_role_and_mints_tokens_the_apis_accept(console) -> None:
    assert (await console.get("/auth/config")).json() == {"mode": "dev"}
    users = (await console.get("/auth/dev/users")).json()
    assert {u["role"] for u in users} == {"agent", "account_manager", "service_manager", "analyst", "admin", "partner"}
    owners = {u["subject"] for u in users if u["role"] == "account_manager"}
    assert {"alice", "bob", "chen", "dana"} <= owners  # the seed's key-account owners

    token = await dev_token(console, "erin", "agent")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "erin" and claims["roles"] == ["agent"] and claims["teams"] == ["service-desk"]
    bearer = {"Authorization": f"Bearer {token}"}
    tasks = await console.get("/api/notifications/v1/tasks", params={"limit": 5}, headers=bearer)
    assert tasks.status_code == 200, tasks.text
    assert "items" in tasks.json()

    # An analyst reads but may not write: the api's own scope check answers through the proxy.
    analyst = {"Authorization": f"Bearer {await dev_token(console, 'olga', 'analyst')}"}
    refused = await console.post("/api/contacts/v1/customers", json={"name": "X"}, headers=analyst)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    partner = next(u for u in DEV_USERS if u.role == "partner")
    claims = jwt.decode(await dev_token(console, partner.subject, "partner"), options={"verify_signature": False})
    assert claims["partner"] == partner.partner


async def test_dev_sign_in_refuses_an_unknown_user_or_a_role_they_do_not_have(console) -> None:
    for body in ({"subject": "mallory", "role": "admin"}, {"subject": "erin", "role": "admin"}, {"role": "admin"}):
        answer = await console.post("/auth/dev/token", json=body)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"].startswith("application/problem+json")


async def test_the_proxy_passes_idempotency_keys_etags_and_if_match_both_ways(console) -> None:
    token = await dev_token(console, "alice", "account_manager")
    bearer = {"Authorization": f"Bearer {token}"}
    body = {"name": "Proxy Test Ltd", "email": unique_email(), "phone": unique_phone(), "tier": "gold"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = await console.post("/api/contacts/v1/customers", json=body, headers=bearer | key)
    again = await console.post("/api/contacts/v1/customers", json=body, headers=bearer | key)
    assert first.status_code == again.status_code == 201, first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.headers["location"] == f"/v1/customers/{first.json()['id']}"

    path = f"/api/contacts/v1/customers/{first.json()['id']}"
    read = await console.get(path, headers=bearer)
    etag = read.headers["etag"]
    stale = await console.patch(path, json={"name": "Stale"}, headers=bearer | {"If-Match": '"999"'})
    assert stale.status_code == 412
    changed = await console.patch(path, json={"name": "Proxy Test GmbH"}, headers=bearer | {"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] != etag
    assert (await console.get(path, headers=bearer)).json()["name"] == "Proxy Test GmbH"
    # Query strings pass through as sent.
    found = await console.get("/api/contacts/v1/customers", params={"email": body["email"]}, headers=bearer)
    assert [c["id"] for c in found.json()["items"]] == [first.json()["id"]]


async def test_the_proxy_without_a_token_is_the_apis_401(console) -> None:
    answer = await console.get("/api/scoring/v1/scorecard")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Bearer")


async def test_a_file_upload_streams_through_the_proxy_whole(console) -> None:
    """A bulk import (text/csv, about 300 KB) reaches contacts whole: every row is counted."""
    token = await dev_token(console, "root", "admin")  # imports need contacts:import
    tag = uuid.uuid4().hex[:8]
    header = "external_id,name,kind,email,phone,tier,owner,tags,organisation_external_id\r\n"
    # Rows the import rejects (an unknown tier): the whole file is counted, and no 3000 customers
    # flood the other tests' pipeline.
    rows = [f"proxy:{tag}-{n},Proxy Upload {tag} {n:05d} {'x' * 60},,,,platinum,,," for n in range(3000)]
    body = (header + "\r\n".join(rows) + "\r\n").encode()
    assert len(body) > 250_000
    answer = await console.post(
        "/api/contacts/v1/imports",
        params={"kind": "customers"},
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["rows_received"] == 3000
