"""Mapping files: validated in one place, errors at the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mql.errors import InputError
from mql.ingest.mapping import Column, load_mapping, parse_mapping

MAPPINGS = Path(__file__).resolve().parents[2] / "src" / "mql" / "ingest" / "mappings"


def test_a_column_name_is_shorthand_for_a_column() -> None:
    mapping = parse_mapping("fields:\n  email: E-mail\n")
    assert mapping.fields["email"] == Column(column="E-mail")


def test_an_empty_file_is_the_default_mapping() -> None:
    assert parse_mapping("").fields == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "timezone: Mars/Base\n",
            r"<string>:1: timezone: unknown time zone 'Mars/Base'",
        ),
        (
            "fields:\n  email: E\n  at: {column: T, formt: x}\n",
            r"<string>:3: fields.at.formt: unknown key; see docs/import.md",
        ),
        ("decimal: ';'\n", r"<string>:1: decimal: Input should be '.' or ','"),
        ("encoding: klingon\n", r"<string>:1: encoding: unknown encoding 'klingon'"),
        ("fields: [a, b\n", r"<string>:\d+: not valid YAML"),
        ("- a\n- b\n", r"<string>:1: a mapping file must be a YAML mapping"),
    ],
)
def test_errors_name_the_line_and_the_fix(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_mapping(text)


def test_unknown_fields_are_refused_when_used(tmp_path: Path) -> None:
    mapping = parse_mapping("fields:\n  mail: E\n")
    with pytest.raises(InputError, match=r"unknown field\(s\) \['mail'\] under fields"):
        mapping.check_fields("leads", "x.csv")


def test_a_mapping_for_events_is_not_used_for_leads() -> None:
    mapping = parse_mapping("kind: events\n")
    with pytest.raises(InputError, match=r"this mapping is for events files"):
        mapping.check_fields("leads", "x.csv")


def test_a_missing_mapping_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"absent.yaml: cannot read the mapping file"):
        load_mapping(tmp_path / "absent.yaml")


@pytest.mark.parametrize("name", ["x_education_leads.yaml", "yammer_email_events.yaml"])
def test_the_shipped_example_mappings_are_valid(name: str) -> None:
    mapping = load_mapping(MAPPINGS / name)
    assert mapping.kind in ("leads", "events")
