"""Strict query strings: what a route does not declare, or cannot store, is a 422, never ignored.

A misspelt filter (`?teir=key`) silently returning every customer, or `?name=a&name=b` quietly
using one of the two, is the kind of surprise an integration finds in production.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from pydantic import BeforeValidator

from crm_shared.http.problems import ProblemError, ValidationFailed
from crm_shared.http.schemas import contains_nul


@dataclass(frozen=True, slots=True)
class _DeclaredQuery:
    names: frozenset[str]
    repeatable: frozenset[str]


_by_route: dict[int, _DeclaredQuery] = {}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso_8601(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError("give an ISO 8601 date-time, e.g. 2026-10-01T00:00:00Z")
    return value


# A date-time in a query string: ISO 8601 only. Pydantic alone would also read `0.5` as a Unix
# time, so a client's typo would quietly mean 1970.
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_8601)]


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Annotated, typing.Union, types.UnionType):
        return any(_is_sequence(arg) for arg in typing.get_args(annotation))
    return origin in (list, set, tuple, frozenset) or annotation in (list, set, tuple, frozenset)


def _declared(dependant: Dependant) -> _DeclaredQuery:
    names = {field.alias for field in dependant.query_params}
    repeatable = {field.alias for field in dependant.query_params if _is_sequence(field.field_info.annotation)}
    for sub in dependant.dependencies:
        declared = _declared(sub)
        names |= declared.names
        repeatable |= declared.repeatable
    return _DeclaredQuery(frozenset(names), frozenset(repeatable))


def _invalid(detail: str, name: str, code: str) -> ProblemError:
    return ValidationFailed(f"query.{name}", detail, code)


async def strict_query_parameters(request: Request) -> None:
    """App-wide dependency (see create_service_app)."""
    if not request.scope.get("query_string"):  # most writes: no query string to parse
        return
    query = request.query_params
    route = request.scope.get("route")
    if not query or route is None:
        return
    declared = _by_route.get(id(route))
    if declared is None:
        declared = _by_route[id(route)] = _declared(route.dependant)
    for name in query:
        if name not in declared.names:
            accepted = ", ".join(sorted(declared.names)) or "none"
            raise _invalid(f"unknown query parameter '{name}'; this operation accepts: {accepted}", name, "unknown")
        values = query.getlist(name)
        if len(values) > 1 and name not in declared.repeatable:
            raise _invalid(f"query parameter '{name}' given {len(values)} times; give it once", name, "repeated")
        if contains_nul(values):
            raise _invalid(f"query parameter '{name}' must not contain the NUL character", name, "nul_character")
