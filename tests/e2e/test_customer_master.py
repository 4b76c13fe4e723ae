"""End to end across the four services: the customer master's promises to the rest of the system.

A caller found by any common way of writing a phone number, a merge that leaves one customer
with everything the two had, and an erasure that leaves no personal data anywhere.
"""

import uuid

import asyncpg
import pytest

from crm_devstack.testing import eventually, unique_email, unique_phone

pytestmark = pytest.mark.e2e

SERVICES = ("contacts", "feedback", "scoring", "notifications")


async def create_customer(services, **fields) -> dict:
    body = {"name": "Wayne Enterprises", "email": unique_email(), "phone": unique_phone(), "tier": "gold"}
    response = await services.contacts.post("/v1/customers", json=body | {"owner": "lucius"} | fields)
    assert response.status_code == 201, response.text
    return response.json()


async def complain(services, customer: dict | None = None, *, caller: dict | None = None, text: str = "") -> dict:
    body = {
        "type": "complaint",
        "category": "service.delivery",
        "severity": "high",
        "channel": "phone",
        "description": text or "The delivery came two weeks late.",
    }
    body |= {"customer": caller} if caller else {"customer_id": customer["id"]}
    response = await services.feedback.post("/v1/feedback", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 201, response.text
    return response.json()


async def tasks_of(services, customer_id: str) -> list[dict]:
    response = await services.notifications.get("/v1/tasks", params={"customer_id": customer_id})
    return response.json()["items"]


async def score_of(services, customer_id: str) -> dict | None:
    response = await services.scoring.get(f"/v1/scores/{customer_id}")
    return response.json() if response.status_code == 200 else None


async def test_a_phone_number_in_any_common_format_finds_the_caller(services) -> None:
    national = f"139{uuid.uuid4().int % 10**8:08d}"  # a Chinese mobile number
    written = f"+86 {national[:3]} {national[3:7]} {national[7:]}"
    customer = await create_customer(services, phone=written)
    assert customer["phone"] == f"+86{national}"

    for form in (written, national, f"0086-{national[:3]}-{national[3:7]}-{national[7:]}"):
        feedback = await complain(services, caller={"phone": form})
        assert feedback["customer_id"] == customer["id"], form


async def test_merging_two_customers_leaves_one_whose_360_shows_everything_both_had(services) -> None:
    survivor = await create_customer(services, name="Wayne Enterprises")
    merged = await create_customer(services, name="Wayne Enterprises Ltd")
    complaints = [await complain(services, survivor), await complain(services, merged)]
    for customer in (survivor, merged):
        await eventually(lambda c=customer: tasks_of(services, c["id"]))
        await eventually(lambda c=customer: score_of(services, c["id"]))
    single_complaint_satisfaction = (await score_of(services, survivor["id"]))["satisfaction"]

    response = await services.contacts.post(
        f"/v1/customers/{survivor['id']}/merge", json={"merged_id": merged["id"], "reason": "same company"}
    )
    assert response.status_code == 200, response.text

    async def whole_view():
        view = (await services.contacts.get(f"/v1/customers/{survivor['id']}/360")).json()
        feedback_ids = {f["id"] for f in view["recent_feedback"] or []}
        task_count = len((view["tasks"] or {}).get("open", []))
        scores = view["scores"] or {}
        if (
            feedback_ids == {c["id"] for c in complaints}
            and task_count >= 2
            and scores.get("satisfaction", 100) < single_complaint_satisfaction
        ):
            return view
        return None

    view = await eventually(whole_view)
    assert view["complete"] is True and view["missing"] == []
    assert {t["customer_id"] for t in view["tasks"]["open"]} == {survivor["id"]}
    # The merged record is a redirect to the survivor, and its phone still finds the survivor.
    redirect = await services.contacts.get(f"/v1/customers/{merged['id']}")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == f"/v1/customers/{survivor['id']}"
    late = await complain(services, caller={"phone": merged["phone"]})
    assert late["customer_id"] == survivor["id"]


async def personal_data_left(services, needles: list[str]) -> dict[str, list[str]]:
    """Every table of every service's database, searched for any of the needles."""
    found: dict[str, list[str]] = {}
    for service in SERVICES:
        url = services.stack.database_url(service).replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(url)
        try:
            tables = await connection.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
            for (table,) in tables:
                for needle in needles:
                    hit = await connection.fetchval(
                        f'SELECT count(*) FROM "{table}" AS t WHERE t::text ILIKE $1', f"%{needle}%"
                    )
                    if hit:
                        found.setdefault(service, []).append(f"{table}: {needle}")
        finally:
            await connection.close()
    return found


async def test_erasing_a_customer_removes_their_personal_data_from_all_four_services(services) -> None:
    name = f"Selina Kyle {uuid.uuid4().hex[:6]}"
    customer = await create_customer(
        services,
        kind="person",
        name=name,
        external_ids=[{"system": "callcentre", "id": f"C-{uuid.uuid4().hex[:8]}"}],
    )
    await services.contacts.patch(
        f"/v1/customers/{customer['id']}", json={"owner": "bruce"}, headers={"If-Match": '"1"'}
    )
    visit = await services.contacts.post(
        f"/v1/customers/{customer['id']}/activities",
        json={"occurred_at": "2026-11-02T10:00:00Z", "details": {"kind": "visit", "purpose": f"Coffee with {name}"}},
    )
    assert visit.status_code == 201, visit.text
    override = await services.contacts.put(
        f"/v1/customers/{customer['id']}/tier-override", json={"tier": "key", "reason": f"{name} sits on our board"}
    )
    assert override.status_code == 200, override.text
    complaint = await complain(services, customer, text=f"{name} says the parcel to her flat was lost.")
    await eventually(lambda: tasks_of(services, customer["id"]))
    await eventually(lambda: score_of(services, customer["id"]))
    needles = [name, customer["email"], customer["phone"], customer["external_ids"][0]["id"]]
    assert set(await personal_data_left(services, needles)) == set(SERVICES)  # the search can find it

    response = await services.contacts.post(
        f"/v1/customers/{customer['id']}/erasure",
        json={"reason": "GDPR article 17 request"},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 200, response.text

    async def nothing_left():
        return await personal_data_left(services, needles) == {}

    await eventually(nothing_left, timeout=30)
    tombstone = (await services.contacts.get(f"/v1/customers/{customer['id']}")).json()
    assert tombstone["status"] == "erased" and tombstone["email"] is None and tombstone["phone"] is None
    kept = (await services.feedback.get(f"/v1/feedback/{complaint['id']}")).json()
    assert kept["type"] == "complaint" and kept["severity"] == "high"  # the facts stay for reporting
