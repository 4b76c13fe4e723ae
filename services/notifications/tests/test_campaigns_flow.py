"""Integration: a survey campaign to a segment, through the real message delivery (SMTP), with
answers posted to feedback that name their invitation and come back as results per indicator group."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone
from crm_shared.projections import get_customer
from notifications.campaigns.models import AudienceFacts

from .test_messages_flow import DAYTIME, zone_where_it_is

pytestmark = pytest.mark.integration

QUESTIONNAIRE = [
    {"key": "q1", "text": "How good is the product?", "metric": "csat", "category": "product.quality"},
    {"key": "q2", "text": "How were our deliveries?", "metric": "csat", "category": "service.delivery"},
    {"key": "q3", "text": "How courteous were we?", "metric": "csat", "category": "purchase.courtesy"},
    {"key": "q4", "text": "Would you recommend us?", "metric": "nps"},
]


async def new_customer(services, region: str, *, consent: bool, zone: str) -> dict:
    body = {
        "name": f"Forum member {uuid.uuid4().hex[:6]}",
        "email": unique_email(),
        "phone": unique_phone(),
        "tier": "key",
        "region": region,
        "consent": {"email": consent},
        "language": "en",
        "timezone": zone,
    }
    response = await services.contacts.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def projected(services, customers: list[dict]) -> bool:
    async with services.workers["notifications"].sessions() as session:
        for customer in customers:
            if await get_customer(session, uuid.UUID(customer["id"])) is None:
                return False
    return True


async def answer(services, customer_id: str, invitation_id: str, question: str, metric: str, score: int, **extra):
    body = {
        "customer_id": customer_id,
        "type": "survey_response",
        "channel": "survey",
        "survey": {"metric": metric, "score": score},
        "invitation_id": invitation_id,
        "question": question,
        **extra,
    }
    response = await services.feedback.post("/v1/feedback", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_survey_to_fifty_customers_reports_response_rate_and_results_per_indicator_group(
    services, inbox
) -> None:
    region = f"forum-{uuid.uuid4().hex[:8]}"
    zone = zone_where_it_is(DAYTIME)
    customers = [await new_customer(services, region, consent=i != 7, zone=zone) for i in range(50)]
    withdrawn = customers[7]
    await eventually(lambda: projected(services, customers), timeout=30)

    created = await services.notifications.post(
        "/v1/campaigns",
        json={
            "name": "User forum 2026-H2",
            "kind": "survey",
            "segment": {"region": [region], "tier": ["key"]},
            "questionnaire": QUESTIONNAIRE,
            "link_base": "https://survey.example.com/s",
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert (campaign["audience"], campaign["invited"], campaign["skipped"]) == (50, 49, 1)
    base = f"/v1/campaigns/{campaign['id']}"

    # The withdrawn consent is skipped with its reason, and nobody else is.
    skipped = (await services.notifications.get(f"{base}/invitations", params={"status": "skipped"})).json()
    [skip] = skipped["items"]
    assert (skip["customer_id"], skip["skip_reason"], skip["message_id"]) == (
        withdrawn["id"],
        "no consent for email",
        None,
    )

    async def all_sent():
        report = (await services.notifications.get(f"{base}/report")).json()
        return report if report["delivery"].get("sent") == 49 else None

    report = await eventually(all_sent, timeout=60)
    assert report["delivery"] == {"sent": 49}
    assert report["skipped"] == [{"reason": "no consent for email", "customers": 1}]
    assert report["responded"] == 0 and report["response_rate"] == 0.0
    assert inbox.to(withdrawn["email"]) == []

    # Each mail links to its own invitation.
    invited = (await services.notifications.get(f"{base}/invitations", params={"limit": 500})).json()["items"]
    invitation_of = {i["customer_id"]: i["id"] for i in invited if i["status"] == "invited"}
    assert len(invitation_of) == 49 and withdrawn["id"] not in invitation_of
    first, second, third = customers[0], customers[1], customers[2]
    [mail] = await eventually(lambda: asyncio.sleep(0, inbox.to(first["email"])))
    assert mail["Subject"] == "User forum 2026-H2: tell us how we are doing"
    body = mail.get_payload(decode=True).decode()
    assert f"https://survey.example.com/s?invitation={invitation_of[first['id']]}" in body and "(4 questions)" in body

    # Two customers answer; one answer names another customer's invitation and counts for nobody.
    for question, metric, score in (("q1", "csat", 5), ("q2", "csat", 2), ("q4", "nps", 10)):
        await answer(services, first["id"], invitation_of[first["id"]], question, metric, score)
    for question, metric, score in (("q1", "csat", 4), ("q3", "csat", 3), ("q4", "nps", 3)):
        await answer(services, second["id"], invitation_of[second["id"]], question, metric, score)
    stray = await answer(services, third["id"], invitation_of[first["id"]], "q1", "csat", 1)
    assert stray["invitation_id"] == invitation_of[first["id"]]
    marker = await answer(services, third["id"], invitation_of[third["id"]], "q2", "csat", 4)

    async def answered():
        current = (await services.notifications.get(f"{base}/report")).json()
        # Answers arrive on several partitions: wait until the report counts every one of them.
        counted = {name: group["answers"] for name, group in current["groups"].items()}
        expected = {"product": 2, "service": 2, "purchase": 1, "overall": 2}
        return current if current["responded"] == 3 and counted == expected else None

    report = await eventually(answered, timeout=30)
    assert marker["question"] == "q2"
    assert report["response_rate"] == round(3 / 49, 4)
    groups = report["groups"]
    assert list(groups) == ["product", "service", "purchase", "overall"]
    assert groups["product"]["metrics"] == {"csat": {"answers": 2, "average": 4.5, "nps": None}}
    assert groups["product"]["categories"] == {"product.quality": {"csat": {"answers": 2, "average": 4.5, "nps": None}}}
    assert groups["service"]["metrics"]["csat"] == {"answers": 2, "average": 3.0, "nps": None}
    assert groups["purchase"]["metrics"]["csat"] == {"answers": 1, "average": 3.0, "nps": None}
    assert groups["overall"]["metrics"]["nps"] == {"answers": 2, "average": 6.5, "nps": 0.0}
    after = (await services.notifications.get(f"{base}/invitations", params={"limit": 500})).json()["items"]
    responded = {i["customer_id"] for i in after if i["responded_at"] is not None}
    assert responded == {first["id"], second["id"], third["id"]}
    listed = (await services.notifications.get("/v1/campaigns")).json()["items"]
    assert campaign["id"] in [c["id"] for c in listed]
    assert datetime.fromisoformat(report["campaign"]["created_at"]) <= datetime.now(UTC)


async def test_a_campaign_without_a_questionnaire_or_with_an_unknown_category_is_refused(services) -> None:
    no_questions = await services.notifications.post(
        "/v1/campaigns", json={"name": "Empty", "kind": "survey", "segment": {"tier": ["key"]}}
    )
    assert no_questions.status_code == 422
    bad = await services.notifications.post(
        "/v1/campaigns",
        json={
            "name": "Bad",
            "kind": "survey",
            "questionnaire": [{"key": "q1", "text": "?", "metric": "csat", "category": "service.magic"}],
        },
    )
    assert bad.status_code == 422 and "category" in bad.text
    listed = (await services.notifications.get("/v1/campaigns")).json()["items"]
    assert not any(c["name"] in ("Empty", "Bad") for c in listed)


async def audience_known(services, customer_id: str, *, product: str | None = None, stage: str | None = None) -> bool:
    async with services.workers["notifications"].sessions() as session:
        row = await session.get(AudienceFacts, uuid.UUID(customer_id))
        if row is None:
            return False
        return (product is None or product in row.products) and (stage is None or row.lifecycle_stage == stage)


async def test_newsletters_and_service_summaries_reach_the_segment_by_product_lifecycle_and_last_contact(
    services, inbox
) -> None:
    region = f"news-{uuid.uuid4().hex[:8]}"
    zone = zone_where_it_is(DAYTIME)
    buyer, other, lapsed = [await new_customer(services, region, consent=True, zone=zone) for _ in range(3)]
    product = f"PUMP-{uuid.uuid4().hex[:6]}"
    for customer, code in ((buyer, product), (other, "VALVE-1")):
        order = {
            "occurred_at": datetime.now(UTC).isoformat(),
            "details": {"kind": "order", "amount": "100", "currency": "EUR", "products": [code]},
        }
        response = await services.contacts.post(f"/v1/customers/{customer['id']}/activities", json=order)
        assert response.status_code == 201, response.text
    churned = await services.contacts.patch(
        f"/v1/customers/{lapsed['id']}", json={"lifecycle_stage": "churned"}, headers={"If-Match": "*"}
    )
    assert churned.status_code == 200, churned.text
    await eventually(lambda: audience_known(services, buyer["id"], product=product), timeout=30)
    await eventually(lambda: audience_known(services, other["id"], product="VALVE-1"), timeout=30)
    await eventually(lambda: audience_known(services, lapsed["id"], stage="churned"), timeout=30)

    async def send(body: dict) -> dict:
        response = await services.notifications.post("/v1/campaigns", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    news = await send(
        {
            "name": "Pump news",
            "kind": "newsletter",
            "segment": {"region": [region], "product": product},
            "text": "The new seals last twice as long.",
        }
    )
    summary = await send(
        {
            "name": "Where we stand",
            "kind": "service_summary",
            "segment": {"region": [region], "lifecycle": ["churned"], "last_contact_before": "2000-01-01T00:00:00Z"},
            "text": "Three deliveries, all on time.",
        }
    )
    active = await send(
        {
            "name": "Recent buyers",
            "kind": "newsletter",
            "segment": {"region": [region], "last_contact_after": "2020-01-01T00:00:00Z"},
        }
    )
    assert (news["invited"], summary["invited"], active["invited"]) == (1, 1, 2)
    [mail] = await eventually(lambda: asyncio.sleep(0, inbox.to(buyer["email"])), timeout=30)
    assert (
        mail["Subject"] == "Pump news" and "The new seals last twice as long." in mail.get_payload(decode=True).decode()
    )

    async def summary_mail():
        return [m for m in inbox.to(lapsed["email"]) if "service summary" in m["Subject"]] or None

    [mail] = await eventually(summary_mail, timeout=30)
    assert "Three deliveries, all on time." in mail.get_payload(decode=True).decode()
