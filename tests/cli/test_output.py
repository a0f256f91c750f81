"""Listings as table, CSV and JSON: stable field names, plain values."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from rich.console import Console

from mql.cli.output import OutputFormat, emit, plain, to_csv, to_json, to_table

FIELDS = ("lead", "score", "mql", "mql_until", "tags")
RECORDS = [
    {
        "lead": "a@x.example",
        "score": 71.25,
        "mql": True,
        "mql_until": datetime(2025, 1, 2, 3, tzinfo=timezone(timedelta(hours=2))),
        "tags": ["x", "y"],
    },
    {"lead": "b@x.example", "score": 3, "mql": False, "mql_until": None, "tags": []},
]


def test_json_keeps_exactly_the_fields_with_utc_instants() -> None:
    rows = json.loads(to_json(RECORDS, FIELDS))
    assert [list(row) for row in rows] == [list(FIELDS)] * 2
    assert rows[0]["mql_until"] == "2025-01-02T01:00:00Z"
    assert rows[1]["mql_until"] is None
    assert rows[0]["score"] == 71.25


def test_csv_has_a_header_and_plain_cells() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(RECORDS, FIELDS))))
    assert rows[0] == list(FIELDS)
    assert rows[1] == ["a@x.example", "71.25", "true", "2025-01-02T01:00:00Z", "x;y"]
    assert rows[2] == ["b@x.example", "3", "false", "", ""]


def test_table_rounds_numbers_and_marks_missing_values() -> None:
    console = Console(record=True, width=200)
    console.print(to_table(RECORDS, FIELDS, title="t"))
    text = console.export_text()
    assert "71.2" in text
    assert "yes" in text
    assert "-" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2024, 1, 1, tzinfo=UTC), "2024-01-01T00:00:00Z"),
        (datetime(2024, 1, 1), "2024-01-01T00:00:00Z"),
        (float("nan"), None),
        (OutputFormat.csv, "csv"),
        ((1, 2), [1, 2]),
    ],
)
def test_plain_values(value: object, expected: object) -> None:
    assert plain(value) == expected


@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_emit_prints_every_format(fmt: OutputFormat) -> None:
    console = Console(record=True, width=200)
    emit(console, RECORDS, FIELDS, fmt, title="Scores")
    assert "a@x.example" in console.export_text()
