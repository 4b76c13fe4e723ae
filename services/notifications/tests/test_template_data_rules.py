"""Which caller `data` a template lets through to a customer (pure logic, no servers)."""

import pytest

from notifications.messages import templates

VARIANTS = {
    "en": {"subject": "Order {{data.ref}}", "body": "{{ data.note | text:10 }} {{customer.name}}"},
    "de": {"subject": "Bestellung {{data.ref}}", "body": "{{data.note|text:8}}"},
}


def test_placeholders_declare_tokens_and_free_text_with_the_strictest_length() -> None:
    assert templates.data_fields(VARIANTS) == {"ref": None, "note": 8}


@pytest.mark.parametrize(
    ("data", "codes"),
    [
        ({"ref": "SO-1", "note": "short note"[:8]}, []),
        ({"ref": "has spaces"}, ["free_text_not_allowed"]),
        ({"ref": "x" * 101}, ["free_text_not_allowed"]),
        ({"note": "nine char"}, ["too_long"]),
        ({"other": "1"}, ["not_in_template"]),
        ({"ref": 42, "note": None}, []),
    ],
)
def test_refused_data(data: dict, codes: list[str]) -> None:
    assert [e["code"] for e in templates.refused_data(VARIANTS, data)] == codes


def test_rendering_cuts_free_text_at_its_declared_length() -> None:
    values = {"data": {"note": "0123456789abcdef"}, "customer": {"name": "Acme"}}
    assert templates.render_text("{{ data.note | text:10 }}!", values) == "0123456789!"


def test_free_text_may_be_declared_only_on_data_and_within_bounds() -> None:
    assert templates.free_text_problems("{{data.a|text:2000}}") == []
    assert len(templates.free_text_problems("{{customer.name|text:5}} {{data.b|text:0}}")) == 2
