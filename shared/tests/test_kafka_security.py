"""Client options for managed Kafka: TLS context, SASL mechanisms, idempotence (no broker needed)."""

import ssl
from pathlib import Path

import pytest

from crm_devstack.certs import TestCA
from crm_shared.config import KafkaSettings
from crm_shared.messaging.producer import build_ssl_context, create_admin, create_consumer, create_producer


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


def settings(**values: object) -> KafkaSettings:
    return KafkaSettings(_env_file=None, bootstrap_servers="broker.example:9093", **values)


def test_plaintext_has_no_tls_context() -> None:
    assert build_ssl_context(settings()) is None
    assert build_ssl_context(settings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN")) is None


@pytest.mark.parametrize("protocol", ["SSL", "SASL_SSL"])
def test_tls_trusts_the_given_ca_only_and_checks_the_hostname(ca: TestCA, protocol: str) -> None:
    context = build_ssl_context(settings(security_protocol=protocol, ssl_cafile=str(ca.files.cert)))
    assert context is not None
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert [dict(c["subject"][0])["commonName"] for c in context.get_ca_certs()] == ["crm test CA"]


def test_hostname_check_can_be_turned_off_but_the_chain_is_still_verified(ca: TestCA) -> None:
    context = build_ssl_context(
        settings(security_protocol="SSL", ssl_cafile=str(ca.files.cert), ssl_check_hostname=False)
    )
    assert context is not None and not context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED


def test_without_a_ca_file_the_system_cas_are_trusted() -> None:
    context = build_ssl_context(settings(security_protocol="SASL_SSL", sasl_mechanism="PLAIN"))
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] == len(ssl.create_default_context().get_ca_certs())


def test_a_client_certificate_with_an_encrypted_key(ca: TestCA) -> None:
    client = ca.issue("client", hosts=("crm-client",), password="s3cret")
    values = {"security_protocol": "SSL", "ssl_cafile": str(ca.files.cert), "ssl_certfile": str(client.cert)}
    assert build_ssl_context(settings(**values, ssl_keyfile=str(client.key), ssl_key_password="s3cret"))
    with pytest.raises(ssl.SSLError):
        build_ssl_context(settings(**values, ssl_keyfile=str(client.key), ssl_key_password="wrong"))
    with pytest.raises(ValueError, match="go together"):
        build_ssl_context(settings(**values))


def test_a_missing_ca_file_is_an_error_at_start(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        build_ssl_context(settings(security_protocol="SSL", ssl_cafile=str(tmp_path / "absent.pem")))


def test_environment_names_as_the_prod_overlay_sets_them(ca: TestCA, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CRM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "CRM_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "CRM_KAFKA_SASL_USERNAME": "crm",
        "CRM_KAFKA_SASL_PASSWORD": "pw",
        "CRM_KAFKA_SSL_CAFILE": str(ca.files.cert),
        "CRM_KAFKA_SSL_CHECK_HOSTNAME": "false",
    }.items():
        monkeypatch.setenv(name, value)
    kafka = KafkaSettings()
    assert (kafka.ssl_cafile, kafka.ssl_check_hostname, kafka.enable_idempotence) == (str(ca.files.cert), False, True)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_every_client_builds_for_sasl_ssl(ca: TestCA, mechanism: str) -> None:
    """aiokafka refuses SSL without a context ("ssl_context is mandatory"): all three get one."""
    kafka = settings(
        security_protocol="SASL_SSL",
        sasl_mechanism=mechanism,
        sasl_username="crm",
        sasl_password="pw",
        ssl_cafile=str(ca.files.cert),
    )
    producer = create_producer(kafka, "test")
    consumer = create_consumer(kafka, "group", ["crm.contacts"])
    admin = create_admin(kafka)
    for client in (producer.client, consumer._client, admin._client):
        assert client._security_protocol == "SASL_SSL" and client._sasl_mechanism == mechanism
        assert isinstance(client._ssl_context, ssl.SSLContext)
    assert producer._txn_manager is not None, "idempotent producer"
    await consumer.stop()
    await producer.stop()


@pytest.mark.parametrize(
    "values, message",
    [
        ({"security_protocol": "TLS"}, "CRM_KAFKA_SECURITY_PROTOCOL"),
        ({"security_protocol": "SASL_SSL", "sasl_mechanism": "GSSAPI"}, "CRM_KAFKA_SASL_MECHANISM"),
        ({"security_protocol": "SASL_PLAINTEXT"}, "CRM_KAFKA_SASL_MECHANISM"),
    ],
)
def test_unsupported_security_settings_are_refused_by_name(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_admin(settings(**values))


async def test_idempotence_can_be_turned_off_for_brokers_without_it() -> None:
    producer = create_producer(settings(enable_idempotence=False), "test")
    assert producer._txn_manager is None
    await producer.stop()
