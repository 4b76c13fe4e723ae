"""`crmctl seed`: a realistic demo book of business, entered through the public APIs only.

Thirty customers (five key accounts with owners, the rest gold / silver / bronze across regions
and industries), contracts and orders as activities, and a mix of complaints, praise,
inquiries, a technical-support request, suggestions and survey answers, one complaint taken
through to resolved (with its cause and remedy). Everything flows
through the events like real traffic: scores and follow-up tasks appear by themselves.

Idempotent: customers carry an external id (`demo:<code>`) and are created with
`on_duplicate=merge` plus an Idempotency-Key, activities and feedback carry source references
the services dedupe on, and the resolution is applied only while the case is not resolved yet.
A second run adds nothing (every answer is a 200 or a replay of the first run's 201).
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

SOURCE = "demo"
# A fixed namespace: the same code always gives the same Idempotency-Key.
_KEYS = uuid.UUID("6b7e0f3c-2a55-4d0e-9c1f-5e3b8d2a7c41")

PARTNERS = ["northwind-distribution", "harbor-supplies"]

KEY_ACCOUNTS = [
    # code, name, owner, region, industry, size
    ("K01", "Nordlicht Logistik GmbH", "alice", "EMEA", "logistics", "enterprise"),
    ("K02", "Pacifica Foods Corporation", "bob", "AMER", "food", "enterprise"),
    ("K03", "Sakura Precision Works", "chen", "APAC", "manufacturing", "large"),
    ("K04", "Hollis & Wren Health Systems", "alice", "AMER", "healthcare", "large"),
    ("K05", "Baltic Amber Energy", "dana", "EMEA", "energy", "enterprise"),
]
OTHERS = [
    # code, name, tier, region, industry, size
    ("C06", "Quillfeather Publishing", "gold", "EMEA", "media", "medium"),
    ("C07", "Redwood Valley Farms", "gold", "AMER", "agriculture", "medium"),
    ("C08", "Tessellate Architects", "gold", "EMEA", "construction", "small"),
    ("C09", "Orinoco Marine Supply", "gold", "AMER", "logistics", "large"),
    ("C10", "Kestrel Aerospace Parts", "gold", "EMEA", "manufacturing", "large"),
    ("C11", "Lumen Dental Clinics", "gold", "APAC", "healthcare", "medium"),
    ("C12", "Granite Peak Outfitters", "gold", "AMER", "retail", "medium"),
    ("C13", "Saffron Route Restaurants", "gold", "APAC", "hospitality", "medium"),
    ("C14", "Brightwater Utilities", "silver", "EMEA", "energy", "large"),
    ("C15", "Cobalt Street Cycles", "silver", "EMEA", "retail", "small"),
    ("C16", "Mistral Wind Services", "silver", "EMEA", "energy", "medium"),
    ("C17", "Juniper Lane Bakeries", "silver", "AMER", "food", "small"),
    ("C18", "Atlas Fieldworks", "silver", "AMER", "construction", "medium"),
    ("C19", "Harbourline Ferries", "silver", "APAC", "logistics", "medium"),
    ("C20", "Verdant Labs", "silver", "EMEA", "biotech", "small"),
    ("C21", "Ironbark Timber Co", "silver", "APAC", "manufacturing", "medium"),
    ("C22", "Polaris Print House", "silver", "AMER", "media", "small"),
    ("C23", "Copperleaf Hotels", "silver", "EMEA", "hospitality", "medium"),
    ("C24", "Thistle & Oak Interiors", "bronze", "EMEA", "retail", "micro"),
    ("C25", "Driftwood Surf School", "bronze", "APAC", "leisure", "micro"),
    ("C26", "Marigold Florists", "bronze", "AMER", "retail", "micro"),
    ("C27", "Little Bear Daycare", "bronze", "AMER", "education", "small"),
    ("C28", "Quayside Tailors", "bronze", "EMEA", "retail", "micro"),
    ("C29", "Sunspot Solar Installers", "bronze", "APAC", "energy", "small"),
    ("C30", "Echo Valley Vineyards", "bronze", "AMER", "food", "small"),
]

# Feedback per customer code: (ref, type, category, severity, channel, description, survey)
FeedbackItem = tuple[str, str, str | None, str | None, str, str, dict[str, Any] | None]
FEEDBACK: dict[str, list[FeedbackItem]] = {
    "K01": [
        (
            "1",
            "complaint",
            "service.delivery",
            "high",
            "phone",
            "Third late pallet delivery this month; line stopped.",
            None,
        ),
        ("2", "survey_response", None, None, "survey", "Quarterly relationship survey.", {"metric": "nps", "score": 4}),
        (
            "3",
            "complaint",
            "purchase.communication",
            "medium",
            "email",
            "Invoice disputes answered after two weeks.",
            None,
        ),
    ],
    "K02": [
        (
            "1",
            "praise",
            "service.problem_resolution",
            None,
            "email",
            "Recall handled fast and calmly, thank you.",
            None,
        ),
        ("2", "survey_response", None, None, "survey", "Post-delivery survey.", {"metric": "csat", "score": 5}),
    ],
    "K03": [
        ("1", "complaint", "product.quality", "critical", "service_point", "Batch of bearings out of tolerance.", None),
        ("2", "suggestion", "product.features", None, "web", "Would like batch certificates in the portal.", None),
    ],
    "K04": [
        (
            "1",
            "complaint",
            "service.complaint_handling",
            "medium",
            "phone",
            "Ticket bounced between three teams.",
            None,
        ),
    ],
    "K05": [
        ("1", "praise", "purchase.courtesy", None, "phone", "The account team went the extra mile at renewal.", None),
        ("2", "survey_response", None, None, "survey", "Onboarding survey.", {"metric": "ces", "score": 2}),
    ],
    "C06": [("1", "inquiry", "purchase.information", None, "email", "Do you offer volume pricing for 2027?", None)],
    "C07": [
        ("1", "complaint", "product.reliability", "low", "web", "Irrigation timer resets after power cuts.", None),
        ("2", "technical_support", "product.function", None, "phone", "On-site training for the new controller.", None),
    ],
    "C09": [("1", "survey_response", None, None, "survey", "Annual survey.", {"metric": "nps", "score": 9})],
    "C10": [("1", "complaint", "service.commercial_dispute", "high", "email", "Credit note still missing.", None)],
    "C12": [("1", "praise", "product.design", None, "social", "Love the new packaging.", None)],
    "C14": [("1", "survey_response", None, None, "survey", "Service survey.", {"metric": "csat", "score": 2})],
    "C15": [("1", "complaint", "purchase.time", "medium", "service_point", "Waited 40 minutes at the counter.", None)],
    "C18": [("1", "suggestion", "purchase.transaction", None, "web", "Please add purchase-order numbers.", None)],
    "C20": [("1", "praise", "service.delivery", None, "email", "Cold chain delivery was perfect.", None)],
    "C23": [("1", "complaint", "product.price_performance", "low", "phone", "Price rise without notice.", None)],
    "C26": [("1", "survey_response", None, None, "survey", "Web shop survey.", {"metric": "csat", "score": 4})],
    "C29": [("1", "inquiry", "purchase.information", None, "phone", "Lead time for inverters?", None)],
}
# The complaint taken through to resolved (code, feedback ref).
RESOLVED = ("K04", "1")
LOOK_AT = "K01"


@dataclass
class SeedResult:
    customers: dict[str, str] = field(default_factory=dict)  # code -> customer id
    feedback: dict[str, str] = field(default_factory=dict)  # code-ref -> feedback id
    created: Counter[str] = field(default_factory=Counter)  # what was new this run
    existing: Counter[str] = field(default_factory=Counter)

    @property
    def key_account(self) -> str:
        return self.customers[LOOK_AT]


def _key(*parts: str) -> str:
    return str(uuid.uuid5(_KEYS, "/".join(parts)))


def _phone(n: int) -> str:
    # 020 7946 0xxx: the UK's range reserved for drama, so no real line is ever called.
    return f"+44 20 7946 0{n:03d}"


def _customers() -> list[dict[str, Any]]:
    bodies = []
    for n, (code, name, owner, region, industry, size) in enumerate(KEY_ACCOUNTS, start=1):
        bodies.append(
            {
                "name": name,
                "email": f"accounts@{code.lower()}.demo.example",
                "phone": _phone(n),
                "tier": "key",
                "owner": owner,
                # The key-account team shares them (record-level access, docs/security.md).
                "owner_team": "key-accounts",
                "region": region,
                "industry": industry,
                "size": size,
                "lifecycle_stage": "customer",
                "strategic": True,
                "tags": ["demo", "key-account"],
                # No `consent` here: contacts' on_duplicate=merge fails on it (Consent | dict in
                # customers/service.py absorb), which a second run would hit.
                "external_ids": [{"system": SOURCE, "id": code}],
            }
        )
    owners = ["erin", "farid", "gwen", "hugo"]
    for n, (code, name, tier, region, industry, size) in enumerate(OTHERS, start=len(KEY_ACCOUNTS) + 1):
        bodies.append(
            {
                "name": name,
                "email": f"hello@{code.lower()}.demo.example",
                "phone": _phone(n),
                "tier": tier,
                "owner": owners[n % len(owners)],
                "owner_team": "accounts",
                # The collaborative CRM: a distributor and a supplier serve some customers.
                **({"partner": PARTNERS[n % 4]} if n % 4 < len(PARTNERS) and n % 3 == 0 else {}),
                "region": region,
                "industry": industry,
                "size": size,
                "lifecycle_stage": "customer",
                "tags": ["demo"],
                "external_ids": [{"system": SOURCE, "id": code}],
            }
        )
    return bodies


def _activities(code: str, index: int) -> list[dict[str, Any]]:
    """A contract for every customer, and orders (more and larger for key accounts)."""
    key = code.startswith("K")
    start = date(2025, 1 + index % 12, 1)
    value = 250_000 + 50_000 * index if key else 12_000 + 1_500 * index
    activities = [
        {
            "occurred_at": f"{start.isoformat()}T09:00:00Z",
            "details": {
                "kind": "contract",
                "starts_on": start.isoformat(),
                "ends_on": (start + timedelta(days=730 if key else 365)).isoformat(),
                "annual_value": f"{value}.00",
                "currency": "EUR",
            },
            "external_ref": f"{SOURCE}:CT-{code}",
        }
    ]
    today = datetime.now(UTC).date()
    for order in range(4 if key else 1 + index % 2):
        when = today - timedelta(days=20 + 45 * order + index)
        activities.append(
            {
                "occurred_at": f"{when.isoformat()}T10:30:00Z",
                "details": {
                    "kind": "order",
                    "amount": f"{value // (6 if key else 4) + 1000 * order}.00",
                    "currency": "EUR",
                    "products": ["PRT-4400"] if key else ["STD-100"],
                },
                "external_ref": f"{SOURCE}:SO-{code}-{order + 1}",
            }
        )
    return activities


def _feedback_body(customer_id: str, code: str, item: FeedbackItem) -> dict[str, Any]:
    ref, type_, category, severity, channel, description, survey = item
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "type": type_,
        "channel": channel,
        "description": description,
        "source_system": SOURCE,
        "external_ref": f"FB-{code}-{ref}",
    }
    if category:
        body["category"] = category
    if severity:
        body["severity"] = severity
    if survey:
        body["survey"] = survey
    return body


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:500]}")
    body: dict[str, Any] = response.json()
    return body


async def seed(urls: dict[str, str], token: str, *, timeout: float = 10.0) -> SeedResult:
    """Loads the demo data through the apis at `urls` (service -> base url)."""
    result = SeedResult()
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(base_url=urls["contacts"], headers=headers, timeout=timeout) as contacts,
        httpx.AsyncClient(base_url=urls["feedback"], headers=headers, timeout=timeout) as feedback,
    ):

        def count(kind: str, response: httpx.Response) -> None:
            new = response.status_code == 201 and response.headers.get("Idempotent-Replayed") != "true"
            (result.created if new else result.existing)[kind] += 1

        for index, body in enumerate(_customers()):
            code = body["external_ids"][0]["id"]
            response = await contacts.post(
                "/v1/customers",
                params={"on_duplicate": "merge"},
                json=body,
                headers={"Idempotency-Key": _key("customer", code)},
            )
            customer = _check(response, f"customer {code}")
            count("customers", response)
            result.customers[code] = customer["id"]
            for activity in _activities(code, index):
                response = await contacts.post(
                    f"/v1/customers/{customer['id']}/activities",
                    json=activity,
                    headers={"Idempotency-Key": _key("activity", activity["external_ref"])},
                )
                _check(response, f"activity {activity['external_ref']}")
                count("activities", response)
        for code, items in FEEDBACK.items():
            for item in items:
                body = _feedback_body(result.customers[code], code, item)
                response = await feedback.post(
                    "/v1/feedback", json=body, headers={"Idempotency-Key": _key("feedback", body["external_ref"])}
                )
                stored = _check(response, f"feedback {body['external_ref']}")
                count("feedback", response)
                result.feedback[f"{code}-{item[0]}"] = stored["id"]
        await _resolve(feedback, result)
    return result


async def _resolve(feedback: httpx.AsyncClient, result: SeedResult) -> None:
    """Takes one complaint through acknowledged to resolved, once."""
    feedback_id = result.feedback["-".join(RESOLVED)]
    steps = [("acknowledged", "Called the customer back."), ("resolved", "Single point of contact assigned.")]
    # Resolving a complaint names its cause and the remedy (docs/domain.md#cause-remedy-compensation).
    resolution = {"cause_code": "service.slow_response", "remedy": "Single point of contact assigned."}
    status = _check(await feedback.get(f"/v1/feedback/{feedback_id}"), "resolved case")["status"]
    order = ["received", "acknowledged", "in_progress", "resolved", "closed"]
    for to, reason in steps:
        if status in order and order.index(status) >= order.index(to):
            continue
        response = await feedback.post(
            f"/v1/feedback/{feedback_id}/transitions",
            json={"to": to, "reason": reason} | ({"resolution": resolution} if to == "resolved" else {}),
            headers={"Idempotency-Key": _key("transition", feedback_id, to)},
        )
        _check(response, f"transition to {to}")
        result.created["transitions"] += 1
        status = to
