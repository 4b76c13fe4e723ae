"""Integration: messages through the real worker to a real SMTP server and HTTP SMS gateway."""

import asyncio
import itertools
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.contracts import Envelope
from crm_shared.db import utcnow
from crm_shared.projections import get_customer
from notifications.messages.playbook_actions import MESSAGE_EXECUTORS
from notifications.outbound.schedule import quiet_until

from .conftest import MAX_ATTEMPTS

pytestmark = pytest.mark.integration

QUIET_START, QUIET_END = time(21), time(8)


def zone_where_it_is(hours: set[int]) -> str:
    """A whole-hour IANA zone whose local hour now is one of `hours` (Etc/GMT+5 is UTC-5)."""
    now = utcnow()
    for offset in range(-12, 15):
        name = "Etc/UTC" if offset == 0 else f"Etc/GMT{'+' if offset < 0 else '-'}{abs(offset)}"
        if now.astimezone(ZoneInfo(name)).hour in hours:
            return name
    raise AssertionError("every hour has a zone")


DAYTIME = set(range(10, 19))
NIGHT = {22, 23, 0, 1, 2, 3, 4, 5}


async def new_customer(services, *, consent: dict, language: str | None, timezone: str, owner: str = "erin") -> dict:
    body = {
        "name": f"Kunde {uuid.uuid4().hex[:6]}",
        "email": unique_email(),
        "phone": unique_phone(),
        "owner": owner,
        "consent": consent,
        "language": language,
        "timezone": timezone,
    }
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    customer = response.json()
    assert customer["language"] == language and customer["timezone"] == timezone

    async def projected():
        async with services.workers["notifications"].sessions() as session:
            card = await get_customer(session, uuid.UUID(customer["id"]))
            return card is not None and card.timezone == timezone

    await eventually(projected)
    return customer


async def send(services, customer: dict, channel: str, template: str = "satisfaction_survey", **extra) -> dict:
    response = await services.notifications.post(
        "/v1/messages",
        json={"customer_id": customer["id"], "channel": channel, "template": template, **extra},
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    return response.json()


async def message_in(services, message_id: str, *statuses: str) -> dict:
    async def check():
        message = (await services.notifications.get(f"/v1/messages/{message_id}")).json()
        return message if message["status"] in statuses else None

    return await eventually(check)


async def test_an_email_reaches_the_smtp_server_in_the_customers_language(services, inbox) -> None:
    customer = await new_customer(
        services, consent={"email": True}, language="de-CH", timezone=zone_where_it_is(DAYTIME)
    )
    queued = await send(services, customer, "email")

    message = await message_in(services, queued["id"], "sent")
    [mail] = await eventually(lambda: asyncio.sleep(0, inbox.to(customer["email"])))
    assert mail["Subject"] == f"Wie zufrieden waren Sie, {customer['name']}?"
    assert f"Guten Tag {customer['name']}" in mail.get_payload(decode=True).decode()
    assert mail["Message-ID"] == f"<{queued['id']}@crm.example>" and mail["Content-Language"] == "de"
    assert message["language"] == "de" and message["to_address"] == customer["email"]
    [attempt] = message["attempts_log"]
    assert attempt["outcome"] == "sent" and attempt["finished_at"] and attempt["error"] is None

    # Erasure removes the address and the rendered text from the delivery log; the facts stay.
    erased = await services.contacts.post(f"/v1/customers/{customer['id']}/erasure", json={"reason": "DSR-1"})
    assert erased.status_code == 200, erased.text

    async def redacted():
        current = (await services.notifications.get(f"/v1/messages/{queued['id']}")).json()
        return current if current["to_address"] is None else None

    current = await eventually(redacted)
    assert current["body"] is None and current["subject"] is None and current["status"] == "sent"


async def test_without_consent_the_message_is_suppressed_and_nothing_is_sent(services, inbox) -> None:
    customer = await new_customer(
        services, consent={"email": False, "sms": True}, language="en", timezone=zone_where_it_is(DAYTIME)
    )
    queued = await send(services, customer, "email")

    message = await message_in(services, queued["id"], "suppressed", "sent")
    assert message["status"] == "suppressed" and message["status_reason"] == "no consent for email"
    assert message["attempts_log"] == [] and inbox.to(customer["email"]) == []
    listed = (await services.notifications.get("/v1/messages", params={"customer_id": customer["id"]})).json()
    assert [m["id"] for m in listed["items"]] == [queued["id"]]


async def test_in_quiet_hours_a_message_is_scheduled_for_their_end(services, inbox) -> None:
    zone = zone_where_it_is(NIGHT)
    customer = await new_customer(services, consent={"email": True}, language="zh", timezone=zone)
    queued = await send(services, customer, "email")

    message = await message_in(services, queued["id"], "scheduled", "sent")
    assert message["status"] == "scheduled" and message["attempts_log"] == []
    expected = quiet_until(datetime.fromisoformat(queued["created_at"]), ZoneInfo(zone), QUIET_START, QUIET_END)
    assert datetime.fromisoformat(message["next_attempt_at"]) == expected
    assert expected.astimezone(ZoneInfo(zone)).time() == QUIET_END
    assert timedelta(0) < expected - utcnow() < timedelta(hours=11)
    assert inbox.to(customer["email"]) == []


async def test_a_failing_sms_gateway_is_retried_then_dead_and_the_retry_endpoint_sends_it(services, receiver) -> None:
    customer = await new_customer(services, consent={"sms": True}, language="en", timezone=zone_where_it_is(DAYTIME))
    receiver.answer("/sms", [503] * MAX_ATTEMPTS)
    queued = await send(services, customer, "sms", template="complaint_received", data={"feedback_id": "F-9"})

    dead = await message_in(services, queued["id"], "dead", "sent")
    assert dead["status"] == "dead" and dead["attempts"] == MAX_ATTEMPTS
    assert [(a["outcome"], a["status_code"]) for a in dead["attempts_log"]] == [("failed", 503)] * MAX_ATTEMPTS
    starts = [datetime.fromisoformat(a["started_at"]) for a in dead["attempts_log"]]
    assert all(later > earlier for earlier, later in itertools.pairwise(starts))
    dead_letters = (
        await services.notifications.get("/v1/messages", params={"status": "dead", "channel": "sms"})
    ).json()
    assert queued["id"] in [m["id"] for m in dead_letters["items"]]

    retried = await services.notifications.post(f"/v1/messages/{queued['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "queued"
    sent = await message_in(services, queued["id"], "sent", "dead")
    assert sent["status"] == "sent" and sent["attempts"] == MAX_ATTEMPTS + 1

    calls = [r for r in receiver.at("/sms") if r.json()["to"] == customer["phone"]]
    assert [c.status for c in calls] == [503] * MAX_ATTEMPTS + [200]
    assert {c.headers["idempotency-key"] for c in calls} == {queued["id"]}
    assert calls[-1].headers["authorization"] == "Bearer sms-test-token"
    assert "F-9" in calls[-1].json()["text"]
    again = await services.notifications.post(f"/v1/messages/{queued['id']}/retry")
    assert again.status_code == 409


async def test_one_trigger_makes_one_message_per_action_however_often_the_executors_run(
    services, inbox, receiver
) -> None:
    """Staff alerts ignore quiet hours; the customer message of the same trigger waits for them."""
    zone = zone_where_it_is(NIGHT)
    owner = f"owner-{uuid.uuid4().hex[:6]}"
    staff_email = unique_email("staff")
    assert (await services.notifications.put(f"/v1/staff/{owner}", json={"email": staff_email})).status_code == 200
    customer = await new_customer(services, consent={"email": True}, language="de", timezone=zone, owner=owner)
    trigger = Envelope(
        type="crm.feedback.received.v1",
        source="crm/feedback",
        subject=customer["id"],
        correlationid="test-executors",
        data={"feedback_id": "F-123", "severity": "high", "category": "product.quality"},
    )
    hook = f"/hooks/{uuid.uuid4().hex}"
    actions = {
        "survey": {"kind": "send_message", "channel": "email", "template": "satisfaction_survey"},
        "alert": {"kind": "notify_staff", "channel": "email", "template": "staff_task_alert", "to": "owner"},
        "erp": {"kind": "call_webhook", "url": receiver.url(hook), "template": None},
    }
    sessions = services.workers["notifications"].sessions
    for _ in range(2):
        async with sessions() as session, session.begin():
            card = await get_customer(session, uuid.UUID(customer["id"]))
            for key, params in actions.items():
                await MESSAGE_EXECUTORS[params["kind"]](
                    session, trigger, playbook="test_playbook", action_key=key, customer=card, params=params
                )

    async def settled():
        page = (await services.notifications.get("/v1/messages", params={"customer_id": customer["id"]})).json()
        by_action = {m["action_key"]: m for m in page["items"]}
        done = {"survey": "scheduled", "alert": "sent", "erp": "sent"}
        return page["items"] if {k: m["status"] for k, m in by_action.items()} == done else None

    messages = await eventually(settled)
    assert len(messages) == 3 and {m["trigger_event_id"] for m in messages} == {str(trigger.id)}
    [alert] = await eventually(lambda: asyncio.sleep(0, inbox.to(staff_email)))
    assert alert["Subject"] == f"[CRM] crm.feedback.received.v1 for {customer['name']}"
    assert "Severity: high" in alert.get_payload(decode=True).decode()
    [call] = receiver.at(hook)
    erp = next(m for m in messages if m["action_key"] == "erp")
    assert call.headers["idempotency-key"] == erp["id"] and call.json()["event"]["data"]["feedback_id"] == "F-123"
    await asyncio.sleep(0.3)
    assert len(inbox.to(staff_email)) == 1 and len(receiver.at(hook)) == 1 and inbox.to(customer["email"]) == []


async def test_templates_are_read_and_replaced_by_admins_and_bad_ones_are_refused(services) -> None:
    shipped = (await services.notifications.get("/v1/message-templates/win_back")).json()
    assert shipped["version"] == 0 and {"en", "de", "zh"} <= shipped["variants"].keys()
    key = f"t-{uuid.uuid4().hex[:8]}"
    body = {"variants": {"en": {"subject": "Hi {{customer.name}}", "body": "Bye"}}}
    put = await services.notifications.put(f"/v1/message-templates/{key}", json=body)
    assert put.status_code == 200 and put.json()["version"] == 1
    assert (await services.notifications.put(f"/v1/message-templates/{key}", json=body)).json()["version"] == 2
    refused = await services.notifications.put(
        f"/v1/message-templates/{key}", json={"variants": {"de": {"subject": "x", "body": "y"}}}
    )
    assert refused.status_code == 422
    unknown = await services.notifications.post(
        "/v1/messages", json={"customer_id": str(uuid.uuid4()), "channel": "email", "template": "no_such_template"}
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "template"


async def test_a_send_cut_off_mid_way_is_sent_again_with_the_same_message_id_after_its_lease(services, inbox) -> None:
    """As a worker that died between the SMTP peer's acknowledgement and recording it leaves it."""
    from notifications.messages.models import MessageAttempt
    from notifications.messages.repository import MessageRepository
    from notifications.messages.service import queue_message

    customer = await new_customer(services, consent={"email": True}, language="en", timezone=zone_where_it_is(DAYTIME))
    async with services.workers["notifications"].sessions() as session, session.begin():
        row = await queue_message(
            session,
            trigger_id=uuid.uuid4(),
            trigger_type="test.crash",
            playbook="test",
            action_key="crash",
            customer_id=uuid.UUID(customer["id"]),
            audience="customer",
            recipient="customer",
            channel="email",
            template="win_back",
            event={},
            data={},
        )
        message = await MessageRepository(session).get(row.id)
        started = utcnow() - timedelta(minutes=10)
        message.status, message.attempts, message.next_attempt_at = "sending", 1, started + timedelta(minutes=5)
        session.add(MessageAttempt(message_id=row.id, number=1, started_at=started))

    sent = await message_in(services, str(row.id), "sent")
    assert [a["outcome"] for a in sent["attempts_log"]] == ["interrupted", "sent"]
    [mail] = inbox.to(customer["email"])
    assert mail["Message-ID"] == f"<{row.id}@crm.example>"


async def test_a_merged_customers_messages_move_to_the_survivor(services) -> None:
    survivor = await new_customer(services, consent={"email": False}, language="en", timezone="UTC")
    duplicate = await new_customer(services, consent={"email": False}, language="en", timezone="UTC")
    queued = await send(services, duplicate, "email")
    await message_in(services, queued["id"], "suppressed")
    merged = await services.contacts.post(
        f"/v1/customers/{survivor['id']}/merge", json={"merged_id": duplicate["id"], "reason": "same person"}
    )
    assert merged.status_code == 200, merged.text

    async def moved():
        page = (await services.notifications.get("/v1/messages", params={"customer_id": survivor["id"]})).json()
        return [m["id"] for m in page["items"]]

    assert await eventually(moved) == [queued["id"]]


async def test_staff_alerts_reach_the_owners_team_lead_and_manager_through_the_directory(services, inbox) -> None:
    suffix = uuid.uuid4().hex[:6]
    owner, lead, manager = f"agent-{suffix}", f"lead-{suffix}", f"boss-{suffix}"
    addresses = {name: unique_email(name) for name in (owner, lead, manager)}
    directory = {
        owner: {"email": addresses[owner], "role": "agent", "reports_to": lead},
        lead: {"email": addresses[lead], "role": "team_lead", "reports_to": manager},
        manager: {"email": addresses[manager], "role": "manager"},
    }
    for name, entry in directory.items():
        assert (await services.notifications.put(f"/v1/staff/{name}", json=entry)).status_code == 200
    customer = await new_customer(services, consent={}, language=None, timezone="UTC", owner=owner)
    trigger = Envelope(
        type="crm.task.escalated.v1", source="crm/notifications", subject=customer["id"], correlationid="t", data={}
    )
    async with services.workers["notifications"].sessions() as session, session.begin():
        for to in ("owner", "team_lead", "manager", "user:nobody-here"):
            params = {"kind": "notify_staff", "channel": "email", "template": "staff_task_alert", "to": to}
            await MESSAGE_EXECUTORS["notify_staff"](
                session, trigger, playbook="escalation", action_key=to, customer=None, params=params
            )

    async def all_sent():
        return all(inbox.to(address) for address in addresses.values())

    await eventually(all_sent)
    assert [m["Subject"] for m in inbox.to(addresses[lead])] == [f"[CRM] crm.task.escalated.v1 for {customer['name']}"]

    async def unknown_is_dead():
        page = (await services.notifications.get("/v1/messages", params={"customer_id": customer["id"]})).json()
        [unknown] = [m for m in page["items"] if m["recipient"] == "user:nobody-here"]
        return unknown if unknown["status"] == "dead" else None

    assert "no email for staff 'user:nobody-here'" in (await eventually(unknown_is_dead))["status_reason"]


async def test_a_staff_alert_to_the_team_lead_follows_the_owners_team_like_escalation_does(services, inbox) -> None:
    suffix = uuid.uuid4().hex[:6]
    owner, team_lead, directory_lead = f"agent-{suffix}", f"teamlead-{suffix}", f"oldlead-{suffix}"
    addresses = {name: unique_email(name) for name in (owner, team_lead, directory_lead)}
    for name, entry in {
        owner: {"email": addresses[owner], "role": "agent", "reports_to": directory_lead},
        team_lead: {"email": addresses[team_lead], "role": "team_lead"},
        directory_lead: {"email": addresses[directory_lead], "role": "team_lead"},
    }.items():
        assert (await services.notifications.put(f"/v1/staff/{name}", json=entry)).status_code == 200
    team = {"members": [owner], "lead": team_lead, "escalate_after_minutes": 60}
    assert (await services.notifications.put(f"/v1/teams/support-{suffix}", json=team)).status_code == 200
    customer = await new_customer(services, consent={}, language=None, timezone="UTC", owner=owner)
    trigger = Envelope(
        type="crm.task.escalated.v1", source="crm/notifications", subject=customer["id"], correlationid="t", data={}
    )
    async with services.workers["notifications"].sessions() as session, session.begin():
        params = {"kind": "notify_staff", "channel": "email", "template": "staff_task_alert", "to": "team_lead"}
        await MESSAGE_EXECUTORS["notify_staff"](
            session, trigger, playbook="escalation", action_key="lead", customer=None, params=params
        )

    await eventually(lambda: _arrived(inbox, addresses[team_lead]))
    assert inbox.to(addresses[directory_lead]) == []  # the team, not the directory's reports_to, names the lead


async def _arrived(inbox, address: str) -> bool:
    return bool(inbox.to(address))


async def test_a_playbook_with_a_send_message_action_emails_the_complaining_customer_once(services, inbox) -> None:
    """The playbook engine runs the message executors: a complaint that matches a playbook with a
    `send_message` action reaches the customer's mailbox, rendered from the event."""
    key = f"test-ack-{uuid.uuid4().hex[:8]}"
    body = {
        "description": "acknowledge information complaints by email",
        "trigger": {
            "event": "crm.feedback.received.v1",
            "conditions": [
                {"on": "type", "any_of": ["complaint"]},
                {"on": "category", "prefix": "purchase.information"},
            ],
        },
        "actions": [{"kind": "send_message", "channel": "email", "template": "complaint_received"}],
    }
    assert (await services.notifications.put(f"/v1/playbooks/{key}", json=body)).status_code == 200
    try:
        customer = await new_customer(
            services, consent={"email": True}, language="en", timezone=zone_where_it_is(DAYTIME)
        )
        complaint = {
            "customer_id": customer["id"],
            "type": "complaint",
            "category": "purchase.information",
            "severity": "medium",
            "channel": "web",
            "description": "The manual is missing.",
        }
        posted = await services.feedback.post("/v1/feedback", json=complaint)
        assert posted.status_code == 201, posted.text

        [mail] = await eventually(lambda: asyncio.sleep(0, inbox.to(customer["email"])))
        assert mail["Subject"] == "We received your complaint"
        assert posted.json()["id"] in mail.get_payload(decode=True).decode()
        page = (await services.notifications.get("/v1/messages", params={"customer_id": customer["id"]})).json()
        [message] = page["items"]
        assert message["playbook"] == key
        # The mail server has the mail a moment before the delivery loop records "sent".
        await message_in(services, message["id"], "sent")
        assert len(inbox.to(customer["email"])) == 1
    finally:
        assert (await services.notifications.delete(f"/v1/playbooks/{key}")).status_code == 204


async def test_credit_put_on_notice_emails_the_customer_who_consented_and_opens_the_owners_review(
    services, inbox
) -> None:
    """The shipped `credit_notice` playbook: the owner gets the review task, the customer the notice."""
    customer = await new_customer(services, consent={"email": True}, language="en", timezone=zone_where_it_is(DAYTIME))
    current = await services.contacts.get(f"/v1/customers/{customer['id']}")
    changed = await services.contacts.patch(
        f"/v1/customers/{customer['id']}",
        json={"credit_standing": "poor", "credit_reason": "invoices 90 days overdue"},
        headers={"If-Match": current.headers["ETag"]},
    )
    assert changed.status_code == 200, changed.text

    [mail] = await eventually(lambda: asyncio.sleep(0, inbox.to(customer["email"])))
    assert mail["Subject"] == f"About your account with us, {customer['name']}"
    tasks = (await services.notifications.get("/v1/tasks", params={"customer_id": customer["id"]})).json()["items"]
    assert [t["assignee"] for t in tasks if t["type"] == "credit_review"] == ["erin"]
