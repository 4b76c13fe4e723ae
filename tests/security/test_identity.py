"""Identity against the real stack: the services trust the dev identity provider (OIDC discovery,
JWKS by kid) beside the dev secret, follow its key rotation without a restart, call each other
with its client-credentials tokens, and refuse to start with the dev secret outside CRM_ENV=dev.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crm_devstack.testing import eventually, free_port, unique_email, unique_phone
from crm_shared.http import identity

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def status_with(services, token: str) -> int:
    return (await services.contacts.get("/v1/customers", params={"limit": 1}, headers=bearer(token))).status_code


def answers(services, token: str, status: int):
    async def check() -> bool:
        return await status_with(services, token) == status

    return check


async def test_a_rotated_key_is_trusted_without_a_restart_and_a_removed_key_is_not(services) -> None:
    idp = services.stack.identity
    old = idp.signing_kid
    old_token = idp.issue("agent-before-rotation", ("contacts:read",), kid=old)
    assert await status_with(services, old_token) == 200

    new = idp.rotate()
    new_token = idp.issue("agent-after-rotation", ("contacts:read",), kid=new)
    # An unknown kid makes the services fetch the keys again (at most once a second in dev).
    await eventually(answers(services, new_token, 200))
    assert await status_with(services, old_token) == 200  # both keys are published

    idp.remove(old)
    # Once the cached keys expire (2 s in dev), the withdrawn key verifies nothing, cached or not.
    await eventually(answers(services, old_token, 401))
    assert await status_with(services, new_token) == 200
    refused = await services.contacts.get("/v1/customers", params={"limit": 1}, headers=bearer(old_token))
    assert refused.headers["content-type"] == "application/problem+json" and old in refused.json()["detail"]


@pytest.mark.parametrize(
    ("claims", "why"),
    [({"issuer": "http://127.0.0.1:1"}, "issuer"), ({"audience": "another-api"}, "audience")],
)
async def test_a_token_of_the_right_key_but_another_issuer_or_audience_is_refused(services, claims, why) -> None:
    token = services.stack.identity.issue("someone", ("contacts:read",), **claims)
    response = await services.contacts.get("/v1/customers", params={"limit": 1}, headers=bearer(token))
    assert response.status_code == 401 and why in response.json()["detail"].lower()


async def test_feedback_creates_a_lead_in_contacts_with_its_client_credentials_token(services) -> None:
    idp = services.stack.identity
    for credentials in identity._credentials.values():
        credentials.forget()  # whatever an earlier test cached: this call fetches a token
    requested = idp.token_requests

    response = await services.feedback.post(
        "/v1/feedback",
        json={
            "type": "complaint",
            "category": "service.delivery",
            "severity": "high",
            "channel": "phone",
            "description": "Nobody called back.",
            "customer": {"phone": unique_phone(), "email": unique_email("caller"), "name": "Samir Nagheenanajar"},
        },
    )

    assert response.status_code == 201, response.text
    assert idp.token_requests == requested + 1  # one client-credentials grant at the provider
    audit = (await services.contacts.get(f"/v1/customers/{response.json()['customer_id']}/audit")).json()
    # contacts saw the provider's client (its `sub`), not a token minted from a shared secret.
    assert {entry["actor"] for entry in audit["items"]} == {"service:crm"}


@pytest.mark.parametrize("process", ["api", "worker"])
def test_outside_dev_a_service_refuses_to_start_with_the_dev_secret(dev_stack, process: str) -> None:
    env = {k: v for k, v in dev_stack.env().items() if not k.startswith("CRM_AUTH_")}
    env["CRM_ENV"] = "production"
    command = (
        [sys.executable, "-m", "uvicorn", "contacts.main:create_app", "--factory", "--port", str(free_port())]
        if process == "api"
        else [os.path.join(os.path.dirname(sys.executable), "contacts-worker")]
    )
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode != 0
    assert "CRM_AUTH_SECRET is the built-in dev secret" in finished.stderr + finished.stdout
