"""crm_shared's clients against an Apache Kafka that, like production, only speaks SASL_SSL.

A broker of its own (not the dev stack's): a listener with TLS from a CA made here and SASL users
for PLAIN and SCRAM; the clients are configured through the environment variables the prod
overlay sets (deploy/k8s/overlays/prod/config.yaml), the CA file as the secret mounts it.
"""

import asyncio
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError

from crm_devstack.certs import TestCA
from crm_devstack.kafka import ApacheKafkaBroker, missing_prerequisite
from crm_devstack.testing import free_port
from crm_shared.config import KafkaSettings
from crm_shared.messaging.producer import create_consumer, create_producer
from crm_shared.messaging.topics import TopicSpec, ensure_topics

pytestmark = pytest.mark.integration

USER, PASSWORD = "crm", "crm-secret"
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


class SecureKafka:
    def __init__(self, folder: Path) -> None:
        if (missing := missing_prerequisite()) is not None:
            pytest.fail(f"the SASL_SSL test needs Apache Kafka: {missing}", pytrace=False)
        self.ca = TestCA(folder / "ca")
        server = self.ca.issue("broker")
        keystore = folder / "broker-keystore.pem"  # key and chain in one PEM, as Kafka reads it
        keystore.write_bytes(server.key.read_bytes() + server.cert.read_bytes() + self.ca.files.cert.read_bytes())
        self.port, plain, controller = free_port(), free_port(), free_port()
        jaas = {
            "plain": f'org.apache.kafka.common.security.plain.PlainLoginModule required user_{USER}="{PASSWORD}";',
            "scram-sha-256": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "scram-sha-512": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        }
        overrides = {
            # PLAINTEXT stays for the broker's own traffic and the readiness probe; clients use SASL_SSL.
            "listeners": f"PLAINTEXT://127.0.0.1:{plain},CONTROLLER://127.0.0.1:{controller},"
            f"SASL_SSL://127.0.0.1:{self.port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{plain},SASL_SSL://127.0.0.1:{self.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": ",".join(MECHANISMS),
            "listener.name.sasl_ssl.ssl.keystore.type": "PEM",
            "listener.name.sasl_ssl.ssl.keystore.location": str(keystore),
        } | {f"listener.name.sasl_ssl.{name}.sasl.jaas.config": config for name, config in jaas.items()}
        scram_users = [f"{m}=[name={USER},password={PASSWORD}]" for m in MECHANISMS if m.startswith("SCRAM")]
        self.broker = ApacheKafkaBroker(
            port=plain,
            controller_port=controller,
            data_dir=folder / "kafka",
            overrides=overrides,
            format_args=[arg for user in scram_users for arg in ("--add-scram", user)],
        )

    def prod_environment(self, monkeypatch: pytest.MonkeyPatch, mechanism: str, **changes: str) -> KafkaSettings:
        """Settings read from the variables the prod overlay sets, pointed at this broker."""
        env = {
            "CRM_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.port}",
            "CRM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CRM_KAFKA_SASL_MECHANISM": mechanism,
            "CRM_KAFKA_SASL_USERNAME": USER,
            "CRM_KAFKA_SASL_PASSWORD": PASSWORD,
            "CRM_KAFKA_SSL_CAFILE": str(self.ca.files.cert),
        } | changes
        for name in ("CRM_KAFKA_SSL_CHECK_HOSTNAME", "CRM_KAFKA_ENABLE_IDEMPOTENCE", "CRM_KAFKA_FETCH_MAX_WAIT_MS"):
            monkeypatch.delenv(name, raising=False)  # production's defaults, whatever the dev stack set
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return KafkaSettings()


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    kafka = SecureKafka(tmp_path_factory.mktemp("sasl-ssl"))
    kafka.broker.start()
    try:
        yield kafka
    finally:
        kafka.broker.stop()


@pytest.mark.parametrize("mechanism", MECHANISMS)
async def test_topics_produce_and_consume_over_sasl_ssl(secure_kafka, monkeypatch, mechanism: str) -> None:
    settings = secure_kafka.prod_environment(monkeypatch, mechanism)
    assert settings.enable_idempotence and settings.ssl_check_hostname
    topic = f"crm.test-{uuid.uuid4().hex[:8]}"
    assert await ensure_topics(settings, [TopicSpec(topic, 2)]) == ([topic], [])

    producer = create_producer(settings, "sasl-ssl-test")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"over TLS", key=b"customer-1")
    finally:
        await producer.stop()
    consumer = create_consumer(settings, f"sasl-ssl-{mechanism}", [topic])
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"customer-1", b"over TLS")


async def refused(settings: KafkaSettings, caplog: pytest.LogCaptureFixture) -> str:
    """Start a producer that must not get in; the client's log says why."""
    producer = create_producer(settings, "refused")
    with caplog.at_level(logging.ERROR, logger="aiokafka"), pytest.raises(KafkaConnectionError):
        await producer.start()
    await producer.stop()
    return caplog.text


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
async def test_a_wrong_password_is_refused(secure_kafka, monkeypatch, caplog, mechanism: str) -> None:
    settings = secure_kafka.prod_environment(monkeypatch, mechanism, CRM_KAFKA_SASL_PASSWORD="not-the-password")
    assert "Authentication failed" in await refused(settings, caplog)


async def test_a_broker_certificate_from_another_ca_is_refused(secure_kafka, monkeypatch, caplog, tmp_path) -> None:
    stranger = TestCA(tmp_path / "other-ca", name="someone else's CA")
    settings = secure_kafka.prod_environment(
        monkeypatch, "SCRAM-SHA-512", CRM_KAFKA_SSL_CAFILE=str(stranger.files.cert)
    )
    assert "CERTIFICATE_VERIFY_FAILED" in await refused(settings, caplog)
