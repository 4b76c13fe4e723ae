"""The deploy files' security (docs/security.md#kubernetes): required secrets and none shipped,
no service account tokens, network policies that allow only the paths the services use, the
TLS Ingress, a Kafka principal and an OAuth2 client per service, and compose without a secret.

Network policies are checked by evaluating them (Kubernetes semantics: a pod selected by no
policy of a direction is open in it; otherwise a connection needs a rule of both ends).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest

from tests.deploy.test_manifests import (
    DEPLOY,
    OVERLAYS,
    SERVICES,
    _containers,
    _pod_spec,
    compose,
    consumer_groups,
    objects,
    rendered,
)

ROOT = DEPLOY.parent
NAMESPACE = {"dev": "crm-dev", "prod": "crm"}


# ---------------------------------------------------------------- secrets and service accounts


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_reference_is_required_and_none_is_shipped(overlay: str) -> None:
    assert not objects(overlay, "Secret"), "secrets are created per environment, never kept in git"
    for doc in rendered(overlay):
        pod = _pod_spec(doc)
        if pod is None:
            continue
        for container in _containers(doc):
            for entry in container.get("env", []):
                for kind in ("secretKeyRef", "configMapKeyRef"):
                    ref = entry.get("valueFrom", {}).get(kind)
                    assert not (ref or {}).get("optional"), f"{doc['metadata']['name']}: {entry['name']} optional"
            for source in container.get("envFrom", []):
                assert not source.get("secretRef", {}).get("optional"), doc["metadata"]["name"]
        for volume in pod.get("volumes", []):
            assert not volume.get("secret", {}).get("optional"), f"{doc['metadata']['name']}: {volume['name']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_pod_gets_a_service_account_token(overlay: str) -> None:
    for doc in rendered(overlay):
        pod = _pod_spec(doc)
        if pod is not None:
            assert pod.get("automountServiceAccountToken") is False, doc["metadata"]["name"]


def env_of(overlay: str, deployment: str) -> dict[str, Any]:
    """A container's environment: its ConfigMaps' data, then its own entries (values or refs)."""
    config_maps = objects(overlay, "ConfigMap")
    (container,) = _containers(objects(overlay, "Deployment")[deployment])
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        env |= config_maps[source["configMapRef"]["name"]]["data"]
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_its_own_identity_provider_client_and_kafka_principal(overlay: str) -> None:
    clients, principals = set(), set()
    for service in SERVICES:
        for process in ("api", "worker"):
            env = env_of(overlay, f"{service}-{process}")
            assert env["CRM_ENV"] == "production", "no cluster runs with the dev defaults"
            assert env["CRM_AUTH_OIDC_ISSUER"].startswith(("https://", "http://keycloak")), env["CRM_AUTH_OIDC_ISSUER"]
            assert "CRM_AUTH_SECRET" not in env and "CRM_AUTH_SERVICE_TOKEN" not in env
            assert env["CRM_AUTH_CLIENT_ID"] == env["CRM_KAFKA_SASL_USERNAME"] == f"crm-{service}"
            assert env["CRM_AUTH_CLIENT_SECRET"]["secretKeyRef"] == {
                "name": "crm-secrets",
                "key": f"{service}-client-secret",
            }
            assert env["CRM_KAFKA_SASL_PASSWORD"]["secretKeyRef"] == {
                "name": "crm-secrets",
                "key": f"{service}-kafka-password",
            }
            clients.add(env["CRM_AUTH_CLIENT_ID"])
            principals.add(env["CRM_KAFKA_SASL_USERNAME"])
    assert len(clients) == len(principals) == len(SERVICES)
    if overlay == "prod":
        assert env_of(overlay, "contacts-api")["CRM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        auth = objects(overlay, "TriggerAuthentication")["crm-kafka"]["spec"]["secretTargetRef"]
        assert {r["key"] for r in auth if r["parameter"] in ("username", "password")} == {
            "keda-kafka-username",
            "keda-kafka-password",
        }, "KEDA reads lag as a principal of its own"


def security_doc() -> str:
    return (ROOT / "docs" / "security.md").read_text()


def section(title: str) -> str:
    text = security_doc()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_kafka_principals_and_their_acls_are_documented() -> None:
    acls = section("Kafka principals and ACLs")
    for service in SERVICES:
        assert f"User:crm-{service}" in acls, service
        for group in consumer_groups(service):
            assert group in acls, f"{service}: consumer group {group}"
    assert "User:crm-admin" in acls and "User:crm-keda" in acls


def test_security_doc_has_the_sections_every_part_adds_to() -> None:
    for title in ("Identity and tokens", "Outbound calls", "Kubernetes", "Kafka principals and ACLs"):
        assert section(title).strip(), title


# ---------------------------------------------------------------- network policies


def _matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] in ("In", "NotIn"), "evaluator: In / NotIn only"
        inside = labels.get(expression["key"]) in expression["values"]
        if inside != (expression["operator"] == "In"):
            return False
    return True


def _peer_matches(peer: dict[str, Any], end: dict[str, Any], namespace: str) -> bool:
    if "ipBlock" in peer:
        if "ip" not in end:
            return False
        ip = ipaddress.ip_address(end["ip"])
        block = peer["ipBlock"]
        within = ip.version == ipaddress.ip_network(block["cidr"]).version and ip in ipaddress.ip_network(block["cidr"])
        return within and not any(
            ip.version == ipaddress.ip_network(e).version and ip in ipaddress.ip_network(e)
            for e in block.get("except", [])
        )
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], end.get("namespace_labels", {})):
            return False
    elif end.get("namespace") != namespace:
        return False  # a bare podSelector means pods of the policy's own namespace
    return "podSelector" not in peer or _matches(peer["podSelector"], end.get("labels", {}))


def _allowed(overlay: str, pod: dict[str, str], other: dict[str, Any], port: int, protocol: str, way: str) -> bool:
    namespace = NAMESPACE[overlay]
    kind, peers_key = ("Ingress", "from") if way == "ingress" else ("Egress", "to")
    selecting = [
        p["spec"]
        for p in objects(overlay, "NetworkPolicy").values()
        if _matches(p["spec"]["podSelector"], pod) and kind in p["spec"]["policyTypes"]
    ]
    if not selecting:
        return True
    for spec in selecting:
        for rule in spec.get(way, []):
            ports = rule.get("ports")
            if ports and not any(p.get("protocol", "TCP") == protocol and p["port"] == port for p in ports):
                continue
            peers = rule.get(peers_key)
            if not peers or any(_peer_matches(peer, other, namespace) for peer in peers):
                return True
    return False


def connects(overlay: str, source: dict[str, Any], target: dict[str, Any], port: int, protocol: str = "TCP") -> bool:
    """Both ends must allow it: the source's egress and (for a pod of ours) the target's ingress."""
    egress = (
        "labels" not in source
        or source.get("namespace") != NAMESPACE[overlay]
        or _allowed(overlay, source["labels"], target, port, protocol, "egress")
    )
    ingress = target.get("namespace") != NAMESPACE[overlay] or _allowed(
        overlay, target["labels"], source, port, protocol, "ingress"
    )
    return egress and ingress


def pod(overlay: str, name: str, component: str) -> dict[str, Any]:
    namespace = NAMESPACE[overlay]
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "crm",
    }
    return {"namespace": namespace, "namespace_labels": {"kubernetes.io/metadata.name": namespace}, "labels": labels}


def outside(namespace: str, **labels: str) -> dict[str, Any]:
    return {"namespace": namespace, "namespace_labels": {"kubernetes.io/metadata.name": namespace}, "labels": labels}


def address(ip: str) -> dict[str, Any]:
    return {"ip": ip}


INGRESS_CONTROLLER = outside("ingress-nginx", **{"app.kubernetes.io/name": "ingress-nginx"})
PROMETHEUS = outside("monitoring", app="prometheus")
DNS = outside("kube-system", **{"k8s-app": "kube-dns"})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_is_denied_unless_allowed(overlay: str) -> None:
    deny = objects(overlay, "NetworkPolicy")["crm-default-deny"]["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")
    stranger = outside("default", app="curl")
    for service in SERVICES:
        assert not connects(overlay, stranger, pod(overlay, service, "api"), 8000)
        assert not connects(overlay, pod(overlay, service, "worker"), address("10.0.0.9"), 22)
        assert not connects(overlay, INGRESS_CONTROLLER, pod(overlay, service, "worker"), 9100)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_controller_reaches_the_apis_and_the_console_only(overlay: str) -> None:
    for service in SERVICES:
        assert connects(overlay, INGRESS_CONTROLLER, pod(overlay, service, "api"), 8000), service
        assert connects(overlay, PROMETHEUS, pod(overlay, service, "api"), 8000), service
        assert connects(overlay, PROMETHEUS, pod(overlay, service, "worker"), 9100), service
    assert connects(overlay, INGRESS_CONTROLLER, pod(overlay, "console", "web"), 8080)
    assert not connects(overlay, INGRESS_CONTROLLER, pod(overlay, "console", "web"), 8000)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_apis_call_each_other_only_where_the_code_does(overlay: str) -> None:
    contacts = pod(overlay, "contacts", "api")
    for other in ("feedback", "scoring", "notifications"):
        assert connects(overlay, contacts, pod(overlay, other, "api"), 8000), f"the 360 reads {other}"
        assert not connects(overlay, pod(overlay, other, "worker"), contacts, 8000)
    assert connects(overlay, pod(overlay, "feedback", "api"), contacts, 8000), "intake looks callers up"
    assert not connects(overlay, pod(overlay, "scoring", "api"), contacts, 8000)
    assert not connects(overlay, pod(overlay, "scoring", "api"), pod(overlay, "feedback", "api"), 8000)
    assert not connects(overlay, pod(overlay, "contacts", "worker"), pod(overlay, "feedback", "api"), 8000)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_postgresql_kafka_the_provider_and_dns_are_reachable_by_those_that_use_them(overlay: str) -> None:
    database, broker = address("10.8.0.5"), address("10.9.0.7")
    for service in SERVICES:
        for component in ("api", "worker"):
            me = pod(overlay, service, component)
            assert connects(overlay, me, database, 5432) and connects(overlay, me, broker, 9093), me
            assert connects(overlay, me, address("203.0.113.10"), 443), "the identity provider"
            assert connects(overlay, me, DNS, 53, "UDP")
        migration = pod(overlay, service, "migration")
        assert connects(overlay, migration, database, 5432) and not connects(overlay, migration, broker, 9092)
    topics = pod(overlay, "crm-topics", "topics")
    assert connects(overlay, topics, broker, 9092) and not connects(overlay, topics, database, 5432)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_notifications_worker_reaches_public_addresses_only(overlay: str) -> None:
    worker = pod(overlay, "notifications", "worker")
    assert connects(overlay, worker, address("93.184.215.14"), 443)  # a webhook receiver
    assert connects(overlay, worker, address("198.51.100.25"), 587)  # an SMTP relay
    for private in ("10.0.0.5", "169.254.169.254", "192.168.1.1", "172.20.0.3"):
        assert not connects(overlay, worker, address(private), 80), private
    assert not connects(overlay, pod(overlay, "scoring", "worker"), address("93.184.215.14"), 80)


# ---------------------------------------------------------------- the Ingress


def route(ingress: dict[str, Any], path: str) -> tuple[str, str] | None:
    """ingress-nginx with use-regex: the longest matching path wins; rewrite-target applies."""
    rewrite = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"]
    candidates = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"] if re.match(p["path"], path)]
    if not candidates:
        return None
    best = max(candidates, key=lambda p: len(p["path"]))
    match = re.match(best["path"], path)
    assert match is not None
    rewritten = re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))) or "", rewrite)
    return best["backend"]["service"]["name"], rewritten


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_ingress_serves_tls_and_routes_each_api_with_its_prefix_stripped(overlay: str) -> None:
    ingress = objects(overlay, "Ingress")["crm"]
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/use-regex"] == "true"
    assert annotations["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"] and {r["host"] for r in ingress["spec"]["rules"]} <= set(tls["hosts"])
    services = objects(overlay, "Service")
    for service in SERVICES:
        assert route(ingress, f"/api/{service}/v1/things?limit=5") == (f"{service}-api", "/v1/things?limit=5")
        assert route(ingress, f"/api/{service}/healthz") == (f"{service}-api", "/healthz")
        assert route(ingress, f"/api/{service}") == (f"{service}-api", "/")
        ports = {p["name"] for p in services[f"{service}-api"]["spec"]["ports"]}
        assert "http" in ports
    assert route(ingress, "/") == ("console", "/")
    assert route(ingress, "/customers/42") == ("console", "/customers/42")
    assert route(ingress, "/api/contactsx/v1") == ("console", "/api/contactsx/v1"), "no prefix confusion"


# ---------------------------------------------------------------- compose


def test_compose_ships_no_token_secret_and_runs_outside_dev() -> None:
    for name, service in compose()["services"].items():
        env = service.get("environment") or {}
        if "CRM_AUTH_SECRET" not in env:
            continue
        # The console is the one exception: compose has no provider, so it keeps dev sign-in,
        # with the operator's own secret and on loopback only (test_manifests.py).
        assert env["CRM_ENV"] == ("dev" if name == "console" else "production"), name
        assert env["CRM_AUTH_SECRET"].startswith("${CRM_AUTH_SECRET:?"), f"{name}: required from the environment"
        assert env["CRM_AUTH_ISSUER"] != "crm-dev", name
