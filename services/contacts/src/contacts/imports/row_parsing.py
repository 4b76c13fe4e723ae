"""A staged row as the customer create or the activity it stands for, and a row's errors as the report lists them.

Pure (no queries). `parsing.py` reads the file into staged rows; this reads one staged row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from contacts.activities.schemas import ActivityCreate
from contacts.customers.schemas import CustomerCreate
from crm_shared.http.problems import ProblemError

CUSTOMER_COLUMNS = (
    "name",
    "kind",
    "email",
    "phone",
    "tier",
    "tier_reason",
    "owner",
    "region",
    "industry",
    "size",
    "lifecycle_stage",
    "credit_standing",
    "credit_reason",
    "tags",
    "strategic",
    "potential",
    "external_id",
    "organisation_external_id",
)

ACTIVITY_COLUMNS = (
    "customer_external_id",
    "kind",
    "occurred_at",
    "external_ref",
    "amount",
    "currency",
    "products",
    "starts_on",
    "ends_on",
    "renewal_of_external_ref",
    "annual_value",
    "purpose",
    "visited_by",
    "direction",
    "duration_seconds",
    "handled_by",
)

_BOOLEANS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}
COLUMNS = {"customers": CUSTOMER_COLUMNS, "activities": ACTIVITY_COLUMNS}
REQUIRED_COLUMNS = {
    "customers": ("name", "external_id"),
    "activities": ("customer_external_id", "kind", "occurred_at", "external_ref"),
}


class RowRejected(Exception):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def row_error(field: str, message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"field": field, "message": message, "code": code, **extra}


def parse_external_ids(text: Any, field: str) -> list[tuple[str, str]]:
    """`system:id`, several separated by `;`."""
    if not isinstance(text, str):
        raise RowRejected([row_error(field, "give it as <system>:<id>, several separated by ;", "invalid_external_id")])
    pairs = []
    for part in text.split(";"):
        system, _, ident = part.strip().partition(":")
        if not system.strip() or not ident.strip():
            raise RowRejected(
                [row_error(field, f"{part.strip()!r} is not <system>:<id> (e.g. erp:D-10042)", "invalid_external_id")]
            )
        pairs.append((system.strip(), ident.strip()))
    return pairs


def validation_errors(exc: ValidationError, renamed: dict[str, str]) -> list[dict[str, Any]]:
    errors = []
    for e in exc.errors():
        field = ".".join(str(p) for p in e["loc"]) or "row"
        top = field.split(".")[0]
        errors.append(row_error(renamed.get(top, field), e["msg"], e["type"]))
    return errors


@dataclass(slots=True)
class CustomerRow:
    data: CustomerCreate
    external_ids: list[tuple[str, str]]
    organisation: tuple[str, str] | None
    label: str  # the external ids as the report names them


def parse_customer_row(raw: dict[str, Any]) -> CustomerRow:
    """A staged row as a customer create; CSV gives text (tags and ids `;`-separated), JSON Lines typed values."""
    data = dict(raw)
    renamed: dict[str, str] = {}
    if "organisation_id" in data:
        raise RowRejected([row_error("organisation_id", "use organisation_external_id", "extra_forbidden")])
    if "external_id" in data:
        if "external_ids" in data:
            raise RowRejected([row_error("external_id", "give external_id or external_ids, not both", "ambiguous")])
        data["external_ids"] = [
            {"system": s, "id": i} for s, i in parse_external_ids(data.pop("external_id"), "external_id")
        ]
        renamed["external_ids"] = "external_id"
    organisation = None
    if (org_text := data.pop("organisation_external_id", None)) is not None:
        [organisation] = parse_external_ids(org_text, "organisation_external_id")[:1]
        data.setdefault("kind", "person")
    if isinstance(data.get("tags"), str):
        data["tags"] = [t for t in (t.strip() for t in data["tags"].split(";")) if t]
    if isinstance(data.get("strategic"), str):
        data["strategic"] = _BOOLEANS.get(data["strategic"].lower(), data["strategic"])
    try:
        model = CustomerCreate.model_validate(data)
    except ValidationError as exc:
        raise RowRejected(validation_errors(exc, renamed)) from exc
    if organisation is not None and model.kind.value != "person":
        raise RowRejected(
            [row_error("organisation_external_id", "only a person belongs to an organisation", "not_a_person")]
        )
    pairs = [(e.system, e.id) for e in model.external_ids]
    if not pairs:
        raise RowRejected(
            [row_error("external_id", "required: re-running an import finds the customer by it", "missing")]
        )
    return CustomerRow(model, pairs, organisation, ";".join(f"{s}:{i}" for s, i in pairs))


@dataclass(slots=True)
class ActivityRow:
    customer: tuple[str, str]  # the customer's external id
    data: ActivityCreate
    renewal_of: str | None  # the external_ref of the contract it renews
    label: str


_ACTIVITY_FIELDS = frozenset(ACTIVITY_COLUMNS) - {"customer_external_id", "occurred_at", "external_ref"}


def parse_activity_row(raw: dict[str, Any]) -> ActivityRow:
    """A staged row as an activity of the customer it names by external id.

    The kind's own fields sit beside `kind` in the row (`products` `;`-separated in CSV); a
    contract renews another by that one's `external_ref` (`renewal_of_external_ref`).
    """
    data = dict(raw)
    text = data.pop("customer_external_id", None)
    if text is None:
        raise RowRejected([row_error("customer_external_id", "required: the customer's <system>:<id>", "missing")])
    pairs = parse_external_ids(text, "customer_external_id")
    if len(pairs) != 1:
        raise RowRejected([row_error("customer_external_id", "give one <system>:<id>", "invalid_external_id")])
    if not data.get("external_ref"):
        raise RowRejected(
            [row_error("external_ref", "required: re-running an import finds the activity by it", "missing")]
        )
    renewal_of = data.pop("renewal_of_external_ref", None)
    details = {k: data.pop(k) for k in list(data) if k in _ACTIVITY_FIELDS}
    if isinstance(details.get("products"), str):
        details["products"] = [p for p in (p.strip() for p in details["products"].split(";")) if p]
    if renewal_of is not None and details.get("kind") != "contract":
        raise RowRejected([row_error("renewal_of_external_ref", "only a contract renews another", "unexpected")])
    try:
        model = ActivityCreate.model_validate(data | {"details": details})
    except ValidationError as exc:
        raise RowRejected(_activity_errors(exc)) from exc
    return ActivityRow(pairs[0], model, renewal_of, f"{pairs[0][0]}:{pairs[0][1]}")


def _activity_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Fields named as the row has them: `details.order.amount` is the row's `amount`."""
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        if loc[:1] == ["details"]:
            loc = loc[2:] or ["kind"]  # past the union's tag; the tag itself is the row's kind
        errors.append(row_error(".".join(loc) or "row", e["msg"], e["type"]))
    return errors


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def problem_errors(exc: ProblemError) -> list[dict[str, Any]]:
    renamed = {"organisation_id": "organisation_external_id"}
    if exc.errors:
        return [e | {"field": renamed.get(e["field"], e["field"])} for e in exc.errors]
    return [row_error("row", str(exc.detail or exc.title), exc.type)]


def row_errors(exc: ProblemError | ValidationError) -> list[dict[str, Any]]:
    if isinstance(exc, ValidationError):
        return validation_errors(exc, {"external_ids": "external_id"})
    return problem_errors(exc)
