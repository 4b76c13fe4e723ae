"""Integration: the playbooks' `call_webhook` passes the webhooks' SSRF guard and is always signed.

A playbook naming a private address is refused when it is stored; a call queued to one anyway (an
older playbook, a name that resolves inside) is refused at the send and never leaves; a call to an
allowed receiver carries a Standard Webhooks signature it can verify.
"""

import uuid

import httpx
import pytest
from aiosmtpd.controller import Controller

from crm_devstack.stack import DEV_OUTBOUND_WEBHOOK_SECRET
from crm_devstack.testing import free_port
from crm_shared.contracts import Envelope
from notifications.config import Settings
from notifications.messages.playbook_actions import MESSAGE_EXECUTORS
from notifications.outbound import signing
from notifications.outbound.transports import Transports

from .conftest import Inbox
from .test_messages_flow import message_in

pytestmark = pytest.mark.integration


def webhook_playbook(url: str) -> dict:
    return {
        "description": "tell the ERP",
        "trigger": {"event": "crm.feedback.received.v1", "conditions": [{"on": "category", "prefix": "ssrf."}]},
        "actions": [{"kind": "call_webhook", "url": url}],
    }


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "http://10.0.0.7:5432/",  # a database inside
        "http://[64:ff9b::a9fe:a9fe]/",  # the metadata service again, through NAT64
        "http://[2002:a00:7::]/",  # 10.0.0.7 through 6to4
    ],
)
async def test_a_playbook_calling_a_private_address_is_refused_when_stored(services, url: str) -> None:
    key = f"ssrf_{uuid.uuid4().hex[:8]}"
    response = await services.notifications.put(f"/v1/playbooks/{key}", json=webhook_playbook(url))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert error["field"].endswith("actions[0].url") and "not a public address" in error["message"]
    assert (await services.notifications.get(f"/v1/playbooks/{key}")).status_code == 404


async def queue_call(services, url: str) -> dict:
    """What a stored playbook's call_webhook does: one message row, sent by the worker."""
    trigger = Envelope(
        type="crm.feedback.received.v1",
        source="crm/feedback",
        subject=str(uuid.uuid4()),
        correlationid="test-outbound",
        data={"feedback_id": f"F-{uuid.uuid4().hex[:6]}", "severity": "high"},
    )
    async with services.workers["notifications"].sessions() as session, session.begin():
        await MESSAGE_EXECUTORS["call_webhook"](
            session,
            trigger,
            playbook="erp_sync",
            action_key="erp",
            customer=None,
            params={"kind": "call_webhook", "url": url},
        )
    page = (await services.notifications.get("/v1/messages", params={"customer_id": trigger.subject})).json()
    [message] = page["items"]
    return message


async def test_a_queued_call_to_a_private_address_is_refused_at_the_send(services) -> None:
    message = await queue_call(services, "http://10.255.0.9/hook")

    dead = await message_in(services, message["id"], "dead", "sent")

    assert dead["status"] == "dead" and dead["attempts"] == 1  # refused for good, not retried
    assert "refused" in dead["attempts_log"][0]["error"] and "10.255.0.9" in dead["attempts_log"][0]["error"]


async def test_a_call_to_an_allowed_receiver_is_signed(services, receiver) -> None:
    hook = f"/erp/{uuid.uuid4().hex}"
    message = await queue_call(services, receiver.url(hook))

    await message_in(services, message["id"], "sent")

    [call] = receiver.at(hook)
    assert call.headers["webhook-id"] == message["id"]
    assert signing.verify(
        DEV_OUTBOUND_WEBHOOK_SECRET,
        call.headers["webhook-id"],
        int(call.headers["webhook-timestamp"]),
        call.body,
        call.headers["webhook-signature"],
    )


async def test_by_default_email_is_never_sent_in_plain_text_to_a_relay_without_starttls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """STARTTLS is the default: a relay that does not offer it gets nothing (the send is retried)."""
    monkeypatch.delenv("NOTIFICATIONS_SMTP_STARTTLS", raising=False)  # the tests' mail sink turns it off
    inbox = Inbox()
    relay = Controller(inbox, hostname="127.0.0.1", port=free_port())
    relay.start()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=relay.port)
        async with httpx.AsyncClient() as http:
            outcome = await Transports(settings, http).email(uuid.uuid4(), "ana@example.com", "Hi", "Body", None)
    finally:
        relay.stop()

    assert settings.smtp_starttls is True
    assert not outcome.ok and not outcome.permanent and "STARTTLS" in (outcome.error or "")
    assert inbox.mails == []
