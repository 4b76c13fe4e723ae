"""Finds the customer a piece of feedback belongs to.

The local projection (fed by contact events) answers almost every lookup with no network call.
Only a miss, typically a customer created milliseconds ago whose event is still in flight,
falls back to a read of the contacts API; its answer is stored in the projection.

A caller nobody knows is not an error: `by_identity` answers None, and the intake either creates
a lead in contacts (`create_lead`, when the caller gave a name) or holds the feedback unmatched.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from crm_shared import access
from crm_shared.contracts.events import ContactCreatedV1
from crm_shared.http.auth import forget_service_token, service_token
from crm_shared.http.problems import ProblemError, ServiceUnavailable, ValidationFailed
from crm_shared.normalize import InvalidIdentifier, normalize_email, read_caller_phone
from crm_shared.projections import find_customer, get_customer, reaches, upsert_customer
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


@dataclass(frozen=True)
class CallerKeys:
    """The caller's identifiers as stored: email lower-cased, phone in E.164 when it can be (a
    number without its country that the default region cannot place stays as given).
    `phone_as_dialled`: the number as the caller wrote it when it has no country code, for the
    directory to match on the national part of the numbers it holds."""

    email: str | None
    phone: str | None
    phone_normalised: bool
    phone_as_dialled: str | None = None


class CustomerResolver:
    def __init__(self, session: AsyncSession, http: httpx.AsyncClient, settings: Settings) -> None:
        self.session = session
        self.http = http
        self.settings = settings

    async def by_id(self, customer_id: uuid.UUID) -> Row[Any]:
        """A merged id resolves to the survivor (the projection follows the alias). A customer
        outside the caller's reach (crm_shared.access) is answered like an unknown one."""
        found = await get_customer(self.session, customer_id)
        if not found:
            record = await self._ask_contacts(f"/v1/customers/{customer_id}", None)
            if record is None:
                raise _unknown(f"No customer with id {customer_id}.", "customer_id")
            found = await self._remember(record)
        if not reaches(access.current(), found):
            raise _unknown(f"No customer with id {customer_id}.", "customer_id")
        return _not_erased(found)

    def keys(self, caller: CallerIdentity) -> CallerKeys:
        try:
            email = normalize_email(caller.email) if caller.email else None
        except InvalidIdentifier as exc:
            raise ValidationFailed("customer.email", str(exc), "invalid_identifier") from exc
        if not caller.phone:
            return CallerKeys(email, None, True)
        try:
            phone = read_caller_phone(caller.phone, self.settings.default_phone_region)
        except InvalidIdentifier as exc:
            raise ValidationFailed("customer.phone", str(exc), "invalid_identifier") from exc
        dialled = caller.phone if phone.national else None
        if phone.e164:
            return CallerKeys(email, phone.e164, True, dialled)
        if email:
            raise ValidationFailed("customer.phone", "not a valid phone number", "invalid_identifier")
        return CallerKeys(None, caller.phone, False, dialled)

    async def by_identity(self, keys: CallerKeys) -> Row[Any] | None:
        """The caller's customer, or None when contacts knows nobody by these identifiers. One
        outside the caller's reach (crm_shared.access) is refused, not taken as a new lead."""
        found = await self._by_identity(keys)
        if found is not None and not reaches(access.current(), found):
            raise _unknown("No customer you may see answers to these identifiers.", "customer")
        return found

    async def _by_identity(self, keys: CallerKeys) -> Row[Any] | None:
        if keys.phone_normalised:
            found = await find_customer(self.session, email=keys.email, phone=keys.phone)
            if found:
                return found
        if keys.email:
            return await self._one_from_contacts({"email": keys.email}, f"email {keys.email}")
        # A number without its country (13800138000 for +86 138 0013 8000) goes as dialled: if
        # nobody holds it as read here, the directory matches the national part of its numbers.
        phone = keys.phone_as_dialled or keys.phone
        return await self._one_from_contacts({"phone": phone}, f"phone {phone}")

    async def _one_from_contacts(self, params: dict[str, str | None], what: str) -> Row[Any] | None:
        field = "customer.email" if "email" in params else "customer.phone"
        page = await self._ask_contacts("/v1/customers", params)
        items = (page or {}).get("items", [])
        if not items:
            return None
        if len(items) > 1:
            raise ValidationFailed(
                field, f"{len(items)} customers match {what}: send it with its country code.", "ambiguous_identifier"
            )
        return await self._remember(items[0])

    async def create_lead(self, name: str, keys: CallerKeys) -> Row[Any] | None:
        """A new caller who gave a name becomes a lead (a person) in contacts, so the feedback has a
        customer at once. `on_duplicate=create`: a similar name alone is no reason to pin the
        feedback on someone else; a shared email or phone (a concurrent create of the same caller)
        answers 409 naming that record, which is the one to use. None: contacts refused the
        identifiers (the feedback is then held unmatched rather than lost)."""
        body = {
            "name": name,
            "kind": "person",
            "lifecycle_stage": "lead",
            "email": keys.email,
            "phone": keys.phone,
        }
        response = await self._call_contacts(
            "POST", "/v1/customers", params={"on_duplicate": "create"}, json={k: v for k, v in body.items() if v}
        )
        if response.status_code == 201:
            return await self._remember(response.json())
        if response.status_code == 409:
            same_caller = [
                d["id"]
                for d in response.json().get("duplicates") or []
                if {"email", "phone"} & set(d.get("matched") or [])
            ]
            return await self.by_id(uuid.UUID(same_caller[0])) if len(same_caller) == 1 else None
        if response.status_code == 422:
            log.info("contacts refused a lead for an unknown caller", extra={"body": response.text[:500]})
            return None
        log.warning("contacts lead creation failed", extra={"status": response.status_code})
        raise ServiceUnavailable("The customer directory did not answer; retry shortly.")

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request to contacts with this service's token; a refused token is fetched anew once
        (the identity provider rotated its key or revoked the token since we cached it)."""
        url = self.settings.contacts_url.rstrip("/") + path
        for attempt in range(2):
            token = await service_token(self.settings.auth, self.settings.service_name)
            response = await self.http.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            if response.status_code != 401 or attempt:
                break
            forget_service_token(self.settings.auth)
        return response

    async def _call_contacts(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._send(method, path, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("contacts unreachable", extra={"error": repr(exc)})
            raise ServiceUnavailable("The customer directory is unreachable; retry shortly.") from exc

    async def _ask_contacts(self, path: str, params: dict[str, str | None] | None) -> dict | None:
        try:
            response = await self._send(
                "GET",
                path,
                params={k: v for k, v in (params or {}).items() if v},
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
