"""Reading an uploaded file as a stream: UTF-8 text in, one row at a time out, memory constant.

Pure code (no database), so the awkward cases of real files (a BOM, CRLF, quoted newlines, a
line cut between two network chunks) are tested without servers.
"""

from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
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


class _NeedMore(Exception):
    """csv.reader ran out of the lines received so far in the middle of a record."""


class _Lines:
    """The lines received so far, as csv.reader's input.

    csv.reader owns the splitting into records (quoted newlines, quotes inside unquoted fields),
    but reads a synchronous iterator while the upload arrives asynchronously. When the lines run
    out mid-record, the reader gives that record up (`_NeedMore`), its lines are put back, and it
    reads the record again from its first line once more have arrived: at least twice as many
    characters each time (up to the size cap), so even a record at the cap is read only a few times.
    """

    def __init__(self) -> None:
        self.waiting: deque[tuple[int, str]] = deque()
        self.taken: list[tuple[int, str]] = []
        self.waiting_chars = 0
        self.wanted_chars = 0  # do not retry a record given up before this much is waiting
        self.ended = False

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if not self.waiting:
            if self.ended:
                raise StopIteration
            raise _NeedMore
        number, text = self.waiting.popleft()
        self.waiting_chars -= len(text)
        self.taken.append((number, text))
        return text

    def add(self, number: int, text: str) -> None:
        self.waiting.append((number, text))
        self.waiting_chars += len(text)

    def ready(self) -> bool:
        return self.ended or self.waiting_chars >= self.wanted_chars

    def put_back(self) -> None:
        taken_chars = sum(len(text) for _, text in self.taken)
        self.waiting.extendleft(reversed(self.taken))
        self.waiting_chars += taken_chars
        # Past the cap the record is cut there: an open quote swallows no more than that.
        self.wanted_chars = min(2 * self.waiting_chars, MAX_LINE_CHARS + 1)
        self.taken = []

    def record(self) -> tuple[int, int, int]:
        """First line, last line and size of the record the reader just read (or failed to)."""
        first, last = self.taken[0][0], self.taken[-1][0]
        size = sum(len(text) for _, text in self.taken)
        self.taken, self.wanted_chars = [], 0
        return first, last, size


def _buffered_records(reader: Any, feed: _Lines) -> Iterator[tuple[int, list[str], str | None]]:
    while feed.waiting and feed.ready():
        try:
            fields = next(reader)
        except _NeedMore:
            if sum(len(text) for _, text in feed.taken) <= MAX_LINE_CHARS:
                feed.put_back()
                return
            # A quote opened and never closed: the record ends at the cap, the rows after it count.
            first, last, _ = feed.record()
            cut = f"the quoted field opened at line {first} is not closed within {MAX_LINE_CHARS} characters"
            yield first, [], f"{cut} (lines {first}-{last} are skipped as this one row)"
        except csv.Error as exc:  # that row's problem, not the whole file's
            first, last, _ = feed.record()
            if feed.ended and not feed.waiting and str(exc) == "unexpected end of data":
                yield first, [], f"the quoted field opened at line {first} is never closed (lines {first}-{last})"
            else:
                yield first, [], f"not valid CSV: {exc}"
        else:
            first, _, size = feed.record()
            if size > MAX_LINE_CHARS:
                yield first, [], f"the row is longer than {MAX_LINE_CHARS} characters"
            else:
                yield first, fields, None


async def csv_records(chunks: AsyncIterable[bytes]) -> AsyncIterator[tuple[int, list[str], str | None]]:
    """(first line, fields, problem) per CSV record; a quoted field may span lines. A quote inside
    an unquoted field is read literally, as Python's csv reader does."""
    feed = _Lines()
    reader = csv.reader(feed, strict=True)
    async for number, text in lines(chunks):
        feed.add(number, text)
        for record in _buffered_records(reader, feed):
            yield record
    feed.ended = True
    for record in _buffered_records(reader, feed):
        yield record


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
