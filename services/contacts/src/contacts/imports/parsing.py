"""Reading an uploaded file as a stream: UTF-8 text in, one row at a time out, memory constant.

Pure code (no database), so the awkward cases of real files (a BOM, CRLF, quoted newlines, a
line cut between two network chunks) are tested without servers.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from crm_shared.http.problems import ProblemError
from crm_shared.http.schemas import contains_nul

MAX_ROWS = 1_000_000
MAX_LINE_CHARS = 65_536  # a row (with its quoted newlines) longer than this is not a customer

CSV_TYPES = {"text/csv"}
JSONL_TYPES = {"application/x-ndjson", "application/jsonl", "application/json-lines"}


@dataclass(slots=True)
class StagedRow:
    row_number: int  # 1 = the first row after the header
    line: int  # where the row starts in the file (a CSV header is line 1)
    raw: dict[str, Any] | None
    problem: str | None = None


def unsupported_media_type(content_type: str | None) -> ProblemError:
    return ProblemError(
        415,
        "Unsupported media type",
        f"Send the file as text/csv (with a header row) or application/x-ndjson (JSON Lines), "
        f"UTF-8; not {content_type or 'without a Content-Type'}.",
        type="unsupported-media-type",
    )


def format_of(content_type: str | None) -> str:
    """`csv` or `jsonl` from a Content-Type header; anything else (or another charset) is a 415."""
    media_type, *params = (part.strip().lower() for part in (content_type or "").split(";"))
    charsets = [p.partition("=")[2].strip('"') for p in params if p.startswith("charset=")]
    if any(c not in ("utf-8", "utf8") for c in charsets):
        raise unsupported_media_type(content_type)
    if media_type in CSV_TYPES:
        return "csv"
    if media_type in JSONL_TYPES:
        return "jsonl"
    raise unsupported_media_type(content_type)


def file_problem(detail: str, field: str = "body", code: str = "unreadable") -> ProblemError:
    return ProblemError(
        422,
        "Unreadable file",
        detail,
        type="unreadable-file",
        errors=[{"field": field, "message": detail, "code": code}],
    )


async def lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, str]]:
    """(line number, text with its newline) from a byte stream, decoded incrementally."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    number = 0
    async for chunk in chunks:
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise file_problem(f"line {number + 1} is not UTF-8 text", code="not_utf8") from exc
        if "\n" not in text:
            pending += text
        else:
            first, *middle, pending_next = text.split("\n")
            number += 1
            yield number, pending + first + "\n"
            for piece in middle:
                number += 1
                yield number, piece + "\n"
            pending = pending_next
        if len(pending) > MAX_LINE_CHARS:
            raise file_problem(f"line {number + 1} is longer than {MAX_LINE_CHARS} characters", code="line_too_long")
    try:
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise file_problem(f"line {number + 1} is not UTF-8 text", code="not_utf8") from exc
    if pending:
        yield number + 1, pending


async def csv_records(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, list[str], str | None]]:
    """(first line, fields, problem) per CSV record; a quoted field may span lines."""
    record: list[str] = []
    start = 0
    quotes = 0
    size = 0
    async for number, text in lines(chunks):
        if not record:
            start = number
        record.append(text)
        quotes += text.count('"')
        size += len(text)
        if size > MAX_LINE_CHARS:
            raise file_problem(
                f"the row at line {start} is longer than {MAX_LINE_CHARS} characters", code="row_too_long"
            )
        if quotes % 2:  # inside a quoted field: the record goes on on the next line
            continue
        joined = "".join(record)
        record, quotes, size = [], 0, 0
        try:
            parsed = next(csv.reader([joined], strict=True), [])
        except csv.Error as exc:  # that row's problem, not the whole file's
            yield start, [], f"not valid CSV: {exc}"
            continue
        yield start, parsed, None
    if record:
        raise file_problem(f"the quoted field opened at line {start} is never closed", code="unclosed_quote")


def _known_columns(header: list[str], allowed: Iterable[str], required: Iterable[str]) -> list[str]:
    columns = [h.strip().lower() for h in header]
    errors = [
        {"field": f"columns.{c or '(empty)'}", "message": "unknown column", "code": "unknown_column"}
        for c in columns
        if c not in allowed
    ]
    errors += [
        {"field": f"columns.{c}", "message": "the column appears more than once", "code": "repeated_column"}
        for c in sorted({c for c in columns if columns.count(c) > 1})
    ]
    errors += [
        {"field": f"columns.{c}", "message": "required column is missing", "code": "missing_column"}
        for c in required
        if c not in columns
    ]
    if errors:
        raise ProblemError(
            422,
            "Unusable header",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors)
            + f". Columns this import accepts: {', '.join(allowed)}.",
            type="validation-error",
            errors=errors,
        )
    return columns


async def csv_rows(
    chunks: AsyncIterable[bytes], *, allowed: Iterable[str], required: Iterable[str]
) -> AsyncIterator[StagedRow]:
    """Rows as {column: value}; empty cells are left out (an empty cell changes nothing)."""
    allowed, required = list(allowed), list(required)
    columns: list[str] | None = None
    number = 0
    async for line, fields, problem in csv_records(chunks):
        if not problem and not any(f.strip() for f in fields):
            continue  # blank line
        if columns is None:
            if problem:
                raise file_problem(f"the header row is {problem}", code="bad_header")
            columns = _known_columns(fields, allowed, required)
            continue
        number += 1
        if problem:
            yield StagedRow(number, line, None, problem)
        elif len(fields) != len(columns):
            yield StagedRow(number, line, None, f"the row has {len(fields)} fields, the header {len(columns)}")
        elif contains_nul(fields):
            yield StagedRow(number, line, None, "the row contains the NUL character (U+0000)")
        else:
            yield StagedRow(number, line, {c: v.strip() for c, v in zip(columns, fields, strict=True) if v.strip()})
    if columns is None:
        raise file_problem("the file is empty: send a header row and at least one row", code="empty")


async def jsonl_rows(chunks: AsyncIterable[bytes]) -> AsyncIterator[StagedRow]:
    """One JSON object per line; blank lines are skipped."""
    number = 0
    async for line, text in lines(chunks):
        if not text.strip():
            continue
        number += 1
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            yield StagedRow(number, line, None, f"not valid JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield StagedRow(number, line, None, "each line must be a JSON object")
        elif contains_nul(value):
            yield StagedRow(number, line, None, "the row contains the NUL character (U+0000)")
        else:
            yield StagedRow(number, line, value)
