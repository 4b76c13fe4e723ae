"""The services declare themselves (crm_shared.services); the library names none of them."""

import re
from pathlib import Path

from crm_shared.contracts import Topics, dead_letter_topic
from crm_shared.messaging.topics import consumer_groups, topic_plan
from crm_shared.services import service_manifests

SRC = Path(__file__).resolve().parents[1] / "src" / "crm_shared"
# The contracts are the shared language (event types, topic names, token scopes): they name the
# business areas on purpose. Everything else must work for any set of services.
SHARED_LANGUAGE = SRC / "contracts"


def test_the_library_names_no_service() -> None:
    names = {m.name for m in service_manifests()} | {"contacts", "feedback", "scoring", "notifications"}
    pattern = re.compile("|".join(sorted(names)), re.IGNORECASE)
    hits = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*"))
        if path.is_file()
        and path.suffix in {".py", ".ini", ".toml", ".txt", ".md"}
        and SHARED_LANGUAGE not in path.parents
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, "crm_shared names a service; declare it in the service's manifest instead:\n" + "\n".join(hits)


def test_the_installed_services_declare_the_plan_deployed_systems_run() -> None:
    """Names are what running systems use: the registry must reproduce them exactly, in order."""
    manifests = service_manifests()
    assert [m.name for m in manifests] == ["contacts", "feedback", "scoring", "notifications"]
    assert [(m.api_port, m.metrics_port, m.database) for m in manifests] == [
        (8001 + i, 9101 + i, f"crm_{m.name}") for i, m in enumerate(manifests)
    ]
    assert consumer_groups() == [
        "feedback-worker",
        "feedback-cases",
        "scoring-worker",
        "scoring-indicators",
        "notifications-worker",
        "notifications-webhooks",
    ]
    assert [spec.name for spec in topic_plan()] == Topics.all() + [dead_letter_topic(g) for g in consumer_groups()]
