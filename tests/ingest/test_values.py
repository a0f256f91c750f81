"""Reading cells: empty markers, decimal commas, booleans, dates and zones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mql.ingest.mapping import Column, Mapping
from mql.ingest.values import CellError, NaiveTimeError, Reader


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("12", ".", 12.0),
        ("1,234.5", ".", 1234.5),
        ("-0.25", ".", -0.25),
        ("980,5", ",", 980.5),
        ("2.500.000,75", ",", 2500000.75),
        ("1 250", ",", 1250.0),
    ],
)
def test_numbers_follow_the_declared_decimal_mark(
    text: str, decimal: str, expected: float
) -> None:
    reader = Reader(Mapping(decimal=decimal))  # type: ignore[arg-type]
    assert reader.read(text, "number") == expected


def test_a_decimal_comma_without_declaration_says_how_to_declare_it() -> None:
    with pytest.raises(CellError, match=r"set decimal: ',' in the mapping"):
        Reader(Mapping()).read("1,5", "number")


def test_integers_refuse_fractions() -> None:
    with pytest.raises(CellError, match=r"expected a whole number, got '2.5'"):
        Reader(Mapping()).read("2.5", "integer")


@pytest.mark.parametrize("text", ["", "  ", "Select", "N/A"])
def test_declared_markers_mean_empty(text: str) -> None:
    reader = Reader(Mapping(empty_values=("Select", "N/A")))
    assert reader.read(text, "text") is None


def test_a_column_can_declare_its_own_empty_marker() -> None:
    column = Column(column="x", empty_values=("-",))
    assert Reader(Mapping()).read("-", "text", column) is None
    assert Reader(Mapping()).read("-", "text") == "-"


@pytest.mark.parametrize(
    ("text", "expected"), [("Yes", True), ("no", False), ("1", True), ("0", False)]
)
def test_booleans(text: str, expected: bool) -> None:
    assert Reader(Mapping()).read(text, "boolean") is expected


def test_an_unknown_boolean_names_the_fix() -> None:
    with pytest.raises(CellError, match=r"expected yes/no, got 'maybe'; add it"):
        Reader(Mapping()).read("maybe", "boolean")


def test_iso_times_with_an_offset_need_no_zone() -> None:
    at = Reader(Mapping()).read("2025-03-31T09:00:00+02:00", "datetime")
    assert at == datetime(2025, 3, 31, 7, 0, tzinfo=UTC)


def test_naive_times_are_read_in_the_declared_zone_not_the_machines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    reader = Reader(Mapping(timezone="America/New_York"))
    # 31 March 2025 is in New York daylight time (UTC-4).
    assert reader.read("2025-03-31 09:00", "datetime") == datetime(
        2025, 3, 31, 13, 0, tzinfo=UTC
    )
    assert reader.read("2025-01-15 09:00", "datetime") == datetime(
        2025, 1, 15, 14, 0, tzinfo=UTC
    )


def test_naive_times_without_a_zone_are_refused() -> None:
    with pytest.raises(NaiveTimeError):
        Reader(Mapping()).read("2025-03-31 09:00", "datetime")


def test_day_first_dates_when_declared() -> None:
    reader = Reader(Mapping(day_first=True, timezone="UTC"))
    assert reader.read("05/03/2024 14:30", "datetime") == datetime(
        2024, 3, 5, 14, 30, tzinfo=UTC
    )
    assert reader.read("06-05-2014 9.30", "datetime") == datetime(
        2014, 5, 6, 9, 30, tzinfo=UTC
    )


def test_ambiguous_dates_without_a_declaration_say_how_to_declare() -> None:
    with pytest.raises(CellError, match=r"declare date_format .* day_first: true"):
        Reader(Mapping(timezone="UTC")).read("05/03/2024", "datetime")


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("45352", datetime(2024, 3, 1, 5, 0, tzinfo=UTC)),
        ("45352.75", datetime(2024, 3, 1, 23, 0, tzinfo=UTC)),
        ("61", datetime(1900, 3, 1, 5, 0, tzinfo=UTC)),
    ],
)
def test_excel_serial_dates_when_declared(serial: str, expected: datetime) -> None:
    reader = Reader(Mapping(timezone="America/New_York", date_format="excel"))
    assert reader.read(serial, "datetime") == expected


def test_an_explicit_format_list_is_tried_in_order() -> None:
    reader = Reader(Mapping(timezone="UTC", date_format=("%d.%m.%Y", "%Y/%m/%d")))
    assert reader.read("2024/03/05", "datetime") == datetime(2024, 3, 5, tzinfo=UTC)
    with pytest.raises(CellError, match=r"'5 March' matches none of the date formats"):
        reader.read("5 March", "datetime")
