"""Kafka producer, consumer and admin construction from settings (one place for client options)."""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context

from crm_shared.config import KafkaSettings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def build_ssl_context(settings: KafkaSettings) -> ssl.SSLContext | None:
    """The TLS context of SSL and SASL_SSL (aiokafka refuses those protocols without one)."""
    if settings.security_protocol not in ("SSL", "SASL_SSL"):
        return None
    if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
        raise ValueError("CRM_KAFKA_SSL_CERTFILE and CRM_KAFKA_SSL_KEYFILE go together (a client certificate)")
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.ssl_cafile,
        certfile=settings.ssl_certfile,
        keyfile=settings.ssl_keyfile,
        password=settings.ssl_key_password,
    )
    # No CA file: the system's CAs (a managed broker with a public certificate). The chain is
    # verified either way; only the name check can be turned off (brokers reached by IP).
    context.check_hostname = settings.ssl_check_hostname
    return context


def _security(settings: KafkaSettings) -> dict[str, Any]:
    protocol = settings.security_protocol.upper()
    if protocol not in PROTOCOLS:
        raise ValueError(f"CRM_KAFKA_SECURITY_PROTOCOL={settings.security_protocol!r}: one of {', '.join(PROTOCOLS)}")
    options: dict[str, Any] = {"security_protocol": protocol, "ssl_context": build_ssl_context(settings)}
    if protocol.startswith("SASL_"):
        mechanism = (settings.sasl_mechanism or "").upper()
        if mechanism not in SASL_MECHANISMS:
            raise ValueError(
                f"CRM_KAFKA_SASL_MECHANISM={settings.sasl_mechanism!r}: one of {', '.join(SASL_MECHANISMS)}"
            )
        options |= {
            "sasl_mechanism": mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": settings.sasl_password,
        }
    return options


def create_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    # acks=all: a row is marked sent only once every in-sync replica has it; idempotence (on
    # unless the broker cannot, see KafkaSettings) keeps a retried batch from being written twice.
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=settings.enable_idempotence,
        linger_ms=settings.linger_ms,
        request_timeout_ms=settings.request_timeout_ms,
        **_security(settings),
    )


def create_consumer(settings: KafkaSettings, group_id: str, topics: list[str]) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        max_poll_records=settings.max_poll_records,
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        request_timeout_ms=max(settings.request_timeout_ms, settings.session_timeout_ms + 5000),
        **_security(settings),
    )


def create_admin(settings: KafkaSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        request_timeout_ms=settings.request_timeout_ms,
        **_security(settings),
    )
