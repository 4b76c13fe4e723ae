"""The wire: SMTP for email, an HTTP gateway for SMS, HTTP POST for webhooks.

Each send carries an id the receiver can deduplicate on, because a worker that dies between the
peer's acknowledgement and recording it sends again: email a `Message-ID` derived from the
message id, HTTP an `Idempotency-Key` (and `webhook-id`). Every call is bounded by
`delivery_timeout_seconds`, so a receiver that never answers costs one attempt, not a stuck loop.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

import httpx
import orjson

from notifications.config import Settings
from notifications.outbound import signing

# Statuses of an SMS gateway that no retry can change (a bad number, a refused token).
_RETRYABLE_4XX = {408, 409, 425, 429}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False


def message_id_header(message_id: object, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "crm.local"
    return f"<{message_id}@{domain}>"


class Transports:
    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http

    # -- email -----------------------------------------------------------------------------

    def _smtp_send(self, message: EmailMessage) -> None:
        s = self.settings
        timeout = s.delivery_timeout_seconds
        # Our EHLO name: without it smtplib asks DNS for this host's FQDN on every connection.
        helo = s.smtp_from.rpartition("@")[2] or "localhost"
        if s.smtp_ssl:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, local_hostname=helo, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(s.smtp_host, s.smtp_port, local_hostname=helo, timeout=timeout)
        with client:
            if s.smtp_starttls and not s.smtp_ssl:
                client.starttls(context=ssl.create_default_context())
            if s.smtp_username:
                client.login(s.smtp_username, s.smtp_password or "")
            client.send_message(message)

    async def email(self, message_id: object, to: str, subject: str, body: str, language: str | None) -> Outcome:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id_header(message_id, self.settings.smtp_from)
        message.set_content(body)
        if language:  # after set_content, which replaces the Content-* headers
            message["Content-Language"] = language
        try:
            await asyncio.to_thread(self._smtp_send, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            return Outcome(False, codes[0] if codes else None, f"recipient refused: {exc.recipients}", permanent=True)
        except smtplib.SMTPResponseException as exc:
            return Outcome(
                False, exc.smtp_code, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=exc.smtp_code >= 500
            )
        except (OSError, smtplib.SMTPException) as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:1000])
        return Outcome(True, 250)

    # -- HTTP ------------------------------------------------------------------------------

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Outcome:
        try:
            response = await self.http.post(url, content=body, headers={"content-type": "application/json", **headers})
        except httpx.HTTPError as exc:
            return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:1000] or type(exc).__name__)
        if 200 <= response.status_code < 300:
            return Outcome(True, response.status_code)
        return Outcome(False, response.status_code, f"HTTP {response.status_code}: {response.text[:300]}")

    async def sms(self, message_id: object, to: str, text: str) -> Outcome:
        url = self.settings.sms_gateway_url
        if not url:
            return Outcome(False, None, "no SMS gateway configured (NOTIFICATIONS_SMS_GATEWAY_URL)")
        headers = {"Idempotency-Key": str(message_id)}
        if self.settings.sms_gateway_token:
            headers["Authorization"] = f"Bearer {self.settings.sms_gateway_token}"
        outcome = await self.post(url, orjson.dumps({"to": to, "text": text}), headers)
        code = outcome.status_code
        if not outcome.ok and code is not None and 400 <= code < 500 and code not in _RETRYABLE_4XX:
            return Outcome(False, code, outcome.error, permanent=True)
        return outcome

    async def webhook_call(self, message_id: object, url: str, payload: dict[str, object]) -> Outcome:
        """Always signed (Standard Webhooks): an unsigned call would let anyone who can reach the
        receiver forge our playbooks' calls, so without a secret nothing is sent."""
        secret = self.settings.outbound_webhook_secret
        if not secret:
            return Outcome(
                False, None, "no signing secret configured (NOTIFICATIONS_OUTBOUND_WEBHOOK_SECRET)", permanent=True
            )
        body = orjson.dumps(payload)
        headers = {"Idempotency-Key": str(message_id)} | signing.headers(
            secret, str(message_id), int(time.time()), body
        )
        return await self.post(url, body, headers)


def http_client(settings: Settings) -> httpx.AsyncClient:
    timeout = settings.delivery_timeout_seconds
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=settings.delivery_concurrency * 2),
        headers={"user-agent": "crm-notifications/1"},
    )
