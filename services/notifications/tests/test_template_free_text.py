"""Integration: a caller's free text reaches a customer only where the template allows it, and no longer."""

import asyncio
import uuid

import pytest

from crm_devstack.testing import eventually

from .test_messages_flow import DAYTIME, message_in, new_customer, zone_where_it_is

pytestmark = pytest.mark.integration

TEMPLATE = {
    "variants": {
        "en": {
            "subject": "Your order {{data.order_ref}}",
            "body": "Dear {{customer.name}},\n\n{{ data.note | text:40 }}\n\nOrder {{data.order_ref}}.",
        }
    }
}


async def test_free_text_goes_only_where_the_template_declares_it_and_up_to_its_length(services, inbox) -> None:
    key = f"order-note-{uuid.uuid4().hex[:8]}"
    put = await services.notifications.put(f"/v1/message-templates/{key}", json=TEMPLATE)
    assert put.status_code == 200, put.text
    customer = await new_customer(services, consent={"email": True}, language="en", timezone=zone_where_it_is(DAYTIME))

    async def post(data: dict) -> object:
        body = {"customer_id": customer["id"], "channel": "email", "template": key, "data": data}
        return await services.notifications.post("/v1/messages", json=body)

    refusals = {
        "not_in_template": {"order_ref": "SO-1", "coupon": "FREE"},
        "free_text_not_allowed": {"order_ref": "click https://evil.example now"},
        "too_long": {"order_ref": "SO-1", "note": "n" * 41},
    }
    for code, data in refusals.items():
        refused = await post(data)
        assert refused.status_code == 422, (code, refused.text)
        assert [e["code"] for e in refused.json()["errors"]] == [code]
    listed = await services.notifications.get("/v1/messages", params={"customer_id": customer["id"]})
    assert listed.json()["items"] == []

    accepted = await post({"order_ref": "SO-1042", "note": "Your spare part ships on Monday."})
    assert accepted.status_code == 201, accepted.text
    await message_in(services, accepted.json()["id"], "sent")
    [mail] = await eventually(lambda: asyncio.sleep(0, inbox.to(customer["email"])))
    text = mail.get_payload(decode=True).decode()
    assert "Your spare part ships on Monday." in text and "Order SO-1042." in text


async def test_a_template_may_declare_free_text_only_on_data_placeholders(services) -> None:
    key = f"bad-{uuid.uuid4().hex[:8]}"
    for body in ("Hi {{customer.name|text:10}}", "Note {{data.note|text:5000}}"):
        refused = await services.notifications.put(
            f"/v1/message-templates/{key}", json={"variants": {"en": {"subject": "x", "body": body}}}
        )
        assert refused.status_code == 422, body
