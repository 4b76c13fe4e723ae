"""Finds the customer a piece of feedback belongs to.

The local projection (fed by contact events) answers almost every lookup with no network call.
Only a miss, typically a customer created milliseconds ago whose event is still in flight,
falls back to a read of the contacts API; its answer is stored in the projection.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared.contracts.events import ContactCreatedV1
from crm_shared.http.auth import service_token
from crm_shared.http.problems import ProblemError, ServiceUnavailable, ValidationFailed
from crm_shared.normalize import InvalidIdentifier, national_digits, normalize_email, normalize_phone
from crm_shared.projections import find_customer, get_customer, upsert_customer
from feedback.config import Settings
from feedback.intake.schemas import CallerIdentity

log = logging.getLogger(__name__)


def _not_erased(customer: Row[Any]) -> Row[Any]:
    """New feedback would collect again what the customer asked us to forget."""
    if customer.erased_at is not None:
        raise _unknown(f"Customer {customer.customer_id} was erased.", "customer_id")
    return customer


def _unknown(detail: str, field: str) -> ProblemError:
    return ProblemError(
        422,
        "Unknown customer",
        detail,
        type="unknown-customer",
        errors=[{"field": field, "message": detail, "code": "unknown_customer"}],
    )


class CustomerResolver:
    def __init__(self, session: AsyncSession, http: httpx.AsyncClient, settings: Settings) -> None:
        self.session = session
        self.http = http
        self.settings = settings

    async def by_id(self, customer_id: uuid.UUID) -> Row[Any]:
        """A merged id resolves to the survivor (the projection follows the alias)."""
        found = await get_customer(self.session, customer_id)
        if found:
            return _not_erased(found)
        record = await self._ask_contacts(f"/v1/customers/{customer_id}", None)
        if record is None:
            raise _unknown(f"No customer with id {customer_id}.", "customer_id")
        return await self._remember(record)

    async def by_identity(self, caller: CallerIdentity) -> Row[Any]:
        try:
            email = normalize_email(caller.email) if caller.email else None
        except InvalidIdentifier as exc:
            raise ValidationFailed("customer.email", str(exc), "invalid_identifier") from exc
        phone = None
        if caller.phone:
            try:
                phone = normalize_phone(caller.phone, self.settings.default_phone_region)
            except InvalidIdentifier as exc:
                if email or national_digits(caller.phone) is None:
                    raise ValidationFailed("customer.phone", str(exc), "invalid_identifier") from exc
                # A number without its country (13800138000 for +86 138 0013 8000): the customer
                # directory matches it on the national part of the numbers it holds.
                return await self._one_from_contacts({"phone": caller.phone}, f"phone {caller.phone}")
        found = await find_customer(self.session, email=email, phone=phone)
        if found:
            return found
        params = {"email": email} if email else {"phone": phone}
        return await self._one_from_contacts(params, f"email {email}" if email else f"phone {phone}")

    async def _one_from_contacts(self, params: dict[str, str | None], what: str) -> Row[Any]:
        field = "customer.email" if "email" in params else "customer.phone"
        page = await self._ask_contacts("/v1/customers", params)
        items = (page or {}).get("items", [])
        if not items:
            raise _unknown(f"No customer with {what}.", field)
        if len(items) > 1:
            raise ValidationFailed(
                field, f"{len(items)} customers match {what}: send it with its country code.", "ambiguous_identifier"
            )
        return await self._remember(items[0])

    async def _ask_contacts(self, path: str, params: dict[str, str | None] | None) -> dict | None:
        token = service_token(self.settings.auth, self.settings.service_name)
        try:
            response = await self.http.get(
                self.settings.contacts_url.rstrip("/") + path,
                params={k: v for k, v in (params or {}).items() if v},
                headers={"Authorization": f"Bearer {token}"},
                # A merged record answers with a redirect to its survivor (before our projection
                # has heard of the merge).
                follow_redirects=True,
            )
        except httpx.HTTPError as exc:
            log.warning("contacts unreachable for a customer lookup", extra={"error": repr(exc)})
            raise ServiceUnavailable("The customer directory is unreachable; retry shortly.") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            log.warning("contacts lookup failed", extra={"status": response.status_code})
            raise ServiceUnavailable("The customer directory did not answer; retry shortly.")
        return response.json()

    async def _remember(self, record: dict) -> Row[Any]:
        card = ContactCreatedV1.model_validate({**record, "customer_id": record["id"]})
        await upsert_customer(self.session, card, as_of=datetime.fromisoformat(record["updated_at"]))
        found = await get_customer(self.session, card.customer_id)
        assert found is not None
        return _not_erased(found)
