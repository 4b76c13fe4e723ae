"""Fuzzing each service's OpenAPI with schemathesis, against the processes `make run` starts.

Hypothesis generates valid and invalid requests for every operation; each response must not be
a 5xx, must match the documented status codes, content types and schemas (errors included,
as problem+json). Authentication is checked separately: no operation answers without a token.
"""

import copy
import uuid

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

import contacts.main
import feedback.main
import notifications.main
import scoring.main
from crm_devstack.testing import LiveSystem

pytestmark = pytest.mark.e2e

# Bulk import bodies are text files (contacts `POST /v1/imports`): send generated strings as they are.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")

SERVICES = {
    "contacts": contacts.main,
    "feedback": feedback.main,
    "scoring": scoring.main,
    "notifications": notifications.main,
}


def _wire_query_schemas(document: dict) -> dict:
    """An optional query parameter is `anyOf: [<schema>, null]` in FastAPI's OpenAPI, but a query
    string cannot carry a null: leaving the parameter out is how a client says it. Schemathesis
    "negates" the null branch into an array whose items reach the wire as text that is a valid
    string (`?segment=false`) and then calls its 200 an accepted invalid request (a known false
    positive). The fuzzed copy keeps only the non-null branch; the served document is unchanged."""
    for path in document["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                branches = parameter.get("schema", {}).get("anyOf")
                if parameter.get("in") == "query" and branches and {"type": "null"} in branches:
                    rest = [b for b in branches if b != {"type": "null"}]
                    if len(rest) == 1:
                        schema = {k: v for k, v in parameter["schema"].items() if k != "anyOf"}
                        parameter["schema"] = rest[0] | schema
    return document


OPENAPI = {name: module.create_app().openapi() for name, module in SERVICES.items()}
# A live stream (`GET /v1/live`, server-sent events) never ends, so a fuzzed call could only time out:
# it is tested as a stream (deploy/console/tests/test_live_updates.py), and for its token below.
STREAMS = ("/v1/live",)


def _without_streams(document: dict) -> dict:
    document["paths"] = {path: ops for path, ops in document["paths"].items() if path not in STREAMS}
    return document


SCHEMAS = {
    name: schemathesis.openapi.from_dict(_without_streams(_wire_query_schemas(copy.deepcopy(document))))
    for name, document in OPENAPI.items()
}
# Derandomized: the same cases on every run, so a CI failure reproduces locally; raise
# max_examples (or drop derandomize) for a deeper local hunt.
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)
# Schema-valid is not business-valid (a well-formed but unknown customer id is a 422 by design),
# so "valid data must be accepted" does not apply; every other built-in check does.
EXCLUDED = [positive_data_acceptance]
# A file upload's body is any text: a "wrongly typed" generated body reaches the wire as text that is
# a valid file (`{}` is a JSON line), and its rows are judged one by one (the per-row error report).
EXCLUDED_FOR = {("POST", "/v1/imports"): [negative_data_rejection]}


def filter_query(ctx, query):
    """A query parameter with an empty name never reaches the wire (the HTTP client drops it), so
    such a "negative" case is sent as a valid request and its 200 would be called a failure."""
    return not query or "" not in query


# Framing headers are the HTTP server's (uvicorn answers a malformed one itself, as text/plain,
# before any app code runs): a generated `Transfer-Encoding: <noise>` tests uvicorn, not the api.
FRAMING_HEADERS = frozenset({"transfer-encoding", "content-length", "host", "connection"})


def filter_headers(ctx, headers):
    return not headers or not FRAMING_HEADERS & {name.lower() for name in headers}


for _schema in SCHEMAS.values():
    _schema.hook(filter_query)
    _schema.hook(filter_headers)


def _call(case, live_system: LiveSystem, service: str, token: str) -> None:
    case.call_and_validate(
        base_url=live_system.url(service),
        headers={"Authorization": f"Bearer {token}"},
        excluded_checks=EXCLUDED + EXCLUDED_FOR.get((case.method.upper(), case.operation.path), []),
        timeout=10,
    )


@SCHEMAS["contacts"].parametrize()
@FUZZ
def test_contacts_api(case, live_system, token) -> None:
    _call(case, live_system, "contacts", token)


@SCHEMAS["feedback"].parametrize()
@FUZZ
def test_feedback_api(case, live_system, token) -> None:
    _call(case, live_system, "feedback", token)


@SCHEMAS["scoring"].parametrize()
@FUZZ
def test_scoring_api(case, live_system, token) -> None:
    _call(case, live_system, "scoring", token)


@SCHEMAS["notifications"].parametrize()
@FUZZ
def test_notifications_api(case, live_system, token) -> None:
    _call(case, live_system, "notifications", token)


OPERATIONS = [
    (service, method.upper(), path)
    for service, document in OPENAPI.items()
    for path, operations in document["paths"].items()
    for method in operations
    if path.startswith("/v1/")
]


@pytest.mark.parametrize(("service", "method", "path"), OPERATIONS, ids=[f"{m} {s}{p}" for s, m, p in OPERATIONS])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4="])
def test_every_operation_requires_a_valid_bearer_token(live_system, service, method, path, authorization) -> None:
    url = live_system.url(service) + path.replace("{customer_id}", str(uuid.uuid4())).replace(
        "{task_id}", str(uuid.uuid4())
    ).replace("{feedback_id}", str(uuid.uuid4()))
    headers = {"Authorization": authorization} if authorization else {}
    response = httpx.request(method, url, headers=headers, json={} if method == "POST" else None, timeout=10)
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_not_a_server_error_is_among_the_checks() -> None:
    """Guards the configuration above: the fuzzing must at least fail on any 5xx."""
    assert not_a_server_error not in EXCLUDED
