"""Unit: reading uploaded files as a stream (no servers)."""

import pytest

from contacts.imports import parsing
from contacts.imports.row_parsing import RowRejected, parse_customer_row
from crm_shared.http.problems import ProblemError


async def chunks(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def collect(rows) -> list[parsing.StagedRow]:
    return [row async for row in rows]


@pytest.mark.parametrize("size", [1, 3, 7, 4096])
async def test_csv_rows_survive_any_chunking_bom_crlf_and_quoted_newlines(size) -> None:
    data = (
        '\ufeffName,External_ID\r\n"Acme, Inc.\r\nHQ",erp:1\r\n\r\nGlobex,erp:2\r\nshort\r\nÜmlaut GmbH,erp:3'.encode()
    )
    rows = await collect(parsing.csv_rows(chunks(data, size), allowed=["name", "external_id"], required=["name"]))
    assert [(r.row_number, r.line, r.raw, r.problem) for r in rows] == [
        (1, 2, {"name": "Acme, Inc.\r\nHQ", "external_id": "erp:1"}, None),
        (2, 5, {"name": "Globex", "external_id": "erp:2"}, None),
        (3, 6, None, "the row has 1 fields, the header 2"),
        (4, 7, {"name": "Ümlaut GmbH", "external_id": "erp:3"}, None),
    ]


async def test_an_unknown_or_missing_column_refuses_the_file() -> None:
    with pytest.raises(ProblemError) as refused:
        await collect(parsing.csv_rows(chunks(b"name,shoe\nx,1\n", 5), allowed=["name", "email"], required=["email"]))
    assert [e["field"] for e in refused.value.errors] == ["columns.shoe", "columns.email"]


async def test_jsonl_rows_report_bad_lines_and_skip_blank_ones() -> None:
    data = b'{"name": "a"}\n\nnot json\n[1]\n{"name": "b"}'
    rows = await collect(parsing.jsonl_rows(chunks(data, 4)))
    assert [(r.row_number, r.line, r.raw is not None) for r in rows] == [
        (1, 1, True),
        (2, 3, False),
        (3, 4, False),
        (4, 5, True),
    ]


async def test_text_that_is_not_utf8_or_a_line_that_never_ends_is_refused() -> None:
    with pytest.raises(ProblemError) as latin:
        await collect(parsing.jsonl_rows(chunks(b'{"name": "M\xfcller"}\n', 100)))
    assert latin.value.errors[0]["code"] == "not_utf8"
    with pytest.raises(ProblemError) as endless:
        await collect(parsing.jsonl_rows(chunks(b"x" * (parsing.MAX_LINE_CHARS + 10), 4096)))
    assert endless.value.errors[0]["code"] == "line_too_long"


def test_format_of_content_types() -> None:
    assert parsing.format_of("text/csv; charset=UTF-8") == "csv"
    assert parsing.format_of("application/x-ndjson") == "jsonl"
    for refused in (None, "application/json", "text/csv; charset=latin-1", "text/plain"):
        with pytest.raises(ProblemError) as error:
            parsing.format_of(refused)
        assert error.value.status == 415


def test_a_csv_customer_row_splits_ids_and_tags_and_needs_an_external_id() -> None:
    row = parse_customer_row(
        {"name": "Wile", "external_id": "erp:P-77; web:9", "tags": "a;B;", "organisation_external_id": "erp:D-1"}
    )
    assert row.external_ids == [("erp", "P-77"), ("web", "9")] and row.data.tags == ["a", "b"]
    assert (row.organisation, row.data.kind.value) == (("erp", "D-1"), "person")
    with pytest.raises(RowRejected) as missing:
        parse_customer_row({"name": "No id"})
    assert missing.value.errors[0]["field"] == "external_id"
    with pytest.raises(RowRejected) as bad:
        parse_customer_row({"name": "Bad", "external_id": "erp"})
    assert bad.value.errors[0]["code"] == "invalid_external_id"


async def staged(data: bytes, size: int = 4096) -> list[tuple[int, int, dict | None, str | None]]:
    columns = ["external_id", "name", "email", "phone", "tier", "owner", "industry"]
    rows = await collect(parsing.csv_rows(chunks(data, size), allowed=columns, required=["external_id"]))
    return [(r.row_number, r.line, r.raw, r.problem) for r in rows]


@pytest.mark.parametrize("size", [1, 7, 4096])
async def test_a_quote_inside_an_unquoted_field_is_read_literally(size) -> None:
    data = (
        b"external_id,name,email,phone,tier,owner,industry\n"
        b'erp:A1,Acme Pipes,a@ex.com,,bronze,alice,Pipe 12" steel\n'
        b"erp:A2,Bolt Co,b@ex.com,,silver,bob,bolts\n"
    )
    assert await staged(data, size) == [
        (1, 2, {"external_id": "erp:A1", "name": "Acme Pipes", "email": "a@ex.com", "tier": "bronze",
                "owner": "alice", "industry": 'Pipe 12" steel'}, None),
        (2, 3, {"external_id": "erp:A2", "name": "Bolt Co", "email": "b@ex.com", "tier": "silver",
                "owner": "bob", "industry": "bolts"}, None),
    ]  # fmt: skip


async def test_an_unclosed_quote_costs_the_rows_it_swallows_up_to_the_size_cap_and_no_more() -> None:
    filler = "".join(f"erp:F{n},Filler {n},,,,,\n" for n in range(parsing.MAX_LINE_CHARS // 20 + 100))
    data = (
        "external_id,name,email,phone,tier,owner,industry\n"
        "erp:B1,Before,,,,,\n"
        'erp:B2,"Broken,,,,,\n' + filler + "erp:A1,After,,,,,\n"
    ).encode()
    rows = await staged(data, 1000)
    assert rows[0] == (1, 2, {"external_id": "erp:B1", "name": "Before"}, None)
    number, line, raw, problem = rows[1]
    assert (number, line, raw) == (2, 3, None)
    assert "quoted field opened at line 3 is not closed" in problem
    # The rows the open quote swallowed are that row's cost; the rows after the cap read normally.
    assert all(problem is None for *_, problem in rows[2:])
    assert rows[-1][1:] == (filler.count("\n") + 4, {"external_id": "erp:A1", "name": "After"}, None)
    assert len(rows) < filler.count("\n")


async def test_a_quote_left_open_at_the_end_of_the_file_is_that_rows_error() -> None:
    data = b'external_id,name,email,phone,tier,owner,industry\nerp:A1,Fine,,,,,\nerp:A2,"Open,,,,,\nerp:A3,x,,,,,\n'
    assert await staged(data, 5) == [
        (1, 2, {"external_id": "erp:A1", "name": "Fine"}, None),
        (2, 3, None, "the quoted field opened at line 3 is never closed (lines 3-4)"),
    ]
