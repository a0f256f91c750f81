"""Reading messy exports: encodings, delimiters, line endings, quoted breaks."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mql.errors import InputError
from mql.ingest.mapping import Mapping
from mql.ingest.readers import detect_delimiter, read_source

from ._support import MESSY


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column() -> None:
    source = read_source(MESSY / "bom_utf8.csv", Mapping())
    assert source.columns == ["email", "name", "company"]
    assert source.rows[0].values["name"] == "Ana López"
    assert source.notes == []


@pytest.mark.parametrize(
    ("name", "delimiter"),
    [("semicolon_decimal_comma.csv", ";"), ("tab_delimited.csv", "\t")],
)
def test_the_delimiter_is_found_on_the_header(name: str, delimiter: str) -> None:
    source = read_source(MESSY / name, Mapping())
    assert source.columns[0] == "email"
    assert len(source.columns) > 2
    assert source.notes == [f"{name}: columns separated by {delimiter!r}"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a,b,c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ('"x;y",b,c', ","),
        ("single", ","),
    ],
)
def test_detect_delimiter_ignores_quoted_text(header: str, expected: str) -> None:
    assert detect_delimiter(header) == expected


def test_quoted_line_breaks_keep_physical_line_numbers() -> None:
    source = read_source(MESSY / "multiline_quoted.csv", Mapping())
    lines = {row.values["name"]: row.line for row in source.rows}
    # Ivy's note spans lines 2-4, so the bad row is on line 5, Leo on 6-7, Max on 8.
    assert lines == {"Ivy Stone": 2, "Bad Row": 5, "Leo Hart": 6, "Max Roe": 8}
    assert source.rows[0].values["notes"] == "first line\r\nsecond line\r\nthird line"


@pytest.mark.parametrize(
    "name", ["endings_lf.csv", "endings_crlf.csv", "endings_cr.csv"]
)
def test_every_line_ending_reads_the_same(name: str) -> None:
    source = read_source(MESSY / name, Mapping())
    assert [row.line for row in source.rows] == [2, 3, 4, 5]
    assert [row.values["city"] for row in source.rows] == [
        "Leeds",
        "York",
        "Hull",
        "Bath",
    ]


def test_windows_1252_is_detected_with_a_note() -> None:
    source = read_source(MESSY / "windows_1252.csv", Mapping())
    first = source.rows[0].values
    assert first["name"] == "René Dubois"
    assert first["company"] == "Société Générale – Conseil"
    assert first["note"] == "“Fees” from €5k"
    assert len(source.notes) == 1
    assert "is not UTF-8; read it as" in source.notes[0]
    assert "Declare encoding:" in source.notes[0]


def test_western_text_is_read_as_windows_1252_not_central_european(
    tmp_path: Path,
) -> None:
    # The detector finds cp1250 and cp1252 equally plausible for Western names;
    # cp1250 would turn "ñ" into "ń" and "è" into "č", emails included.
    path = tmp_path / "contacts.csv"
    text = (
        "email,name,company\n"
        "zoe@cafe-creme.fr,Zoë Brontë,Café Crème\n"
        "jose@pena.es,José Núñez,Señor Peña SL\n"
        "bjorn@astrom.se,Björn Åström,Müller & Söhne\n"
    )
    path.write_bytes(text.encode("cp1252"))
    source = read_source(path, Mapping())
    assert [row.values["company"] for row in source.rows] == [
        "Café Crème",
        "Señor Peña SL",
        "Müller & Söhne",
    ]
    assert "read it as cp1252" in source.notes[0]


def test_central_european_text_is_still_read_as_windows_1250(tmp_path: Path) -> None:
    path = tmp_path / "kontakty.csv"
    rows = "".join(
        f"a{i}@firma.pl,Łukasz Wróbel,Zażółć gęślą jaźń\n" for i in range(20)
    )
    path.write_bytes(("email,name,company\n" + rows).encode("cp1250"))
    source = read_source(path, Mapping())
    assert source.rows[0].values["company"] == "Zażółć gęślą jaźń"


def test_a_declared_encoding_is_used_without_a_note() -> None:
    source = read_source(MESSY / "windows_1252.csv", Mapping(encoding="cp1252"))
    assert source.rows[1].values["name"] == "Jürgen Müller"
    assert source.notes == []


def test_a_wrong_declared_encoding_is_a_file_error() -> None:
    with pytest.raises(InputError, match=r"not valid utf-8 \(byte \d+\); fix encoding"):
        read_source(MESSY / "windows_1252.csv", Mapping(encoding="utf-8"))


def test_utf16_unicode_text_from_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "unicode-text.txt"
    text = "email\tname\r\nrene@societe-conseil.co.uk\tRené Dubois\r\n"
    path.write_bytes(text.encode("utf-16"))
    source = read_source(path, Mapping())
    assert source.rows[0].values == {
        "email": "rene@societe-conseil.co.uk",
        "name": "René Dubois",
    }
    assert source.notes[0] == "unicode-text.txt: read as UTF-16 (byte-order mark)"


def test_an_excel_sep_line_names_the_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("sep=;\r\nemail;name\r\na@b.com;Ann, Jr.\r\n", encoding="utf-8")
    source = read_source(path, Mapping())
    assert source.columns == ["email", "name"]
    assert [(r.line, r.values["name"]) for r in source.rows] == [(3, "Ann, Jr.")]


def test_trailing_empty_columns_are_dropped() -> None:
    source = read_source(MESSY / "trailing_columns.csv", Mapping())
    assert source.columns == ["email", "name", "title"]
    assert all(row.error is None for row in source.rows)


def test_a_value_under_no_header_marks_the_row(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("email,name\na@b.com,Ann,surprise\nc@d.com,Cy\n", encoding="utf-8")
    rows = read_source(path, Mapping()).rows
    assert rows[0].error is not None
    assert "the row has 3 cells but the header names 2 columns" in rows[0].error
    assert rows[1].error is None


def test_json_lines_keep_line_numbers_and_mark_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        json.dumps({"email": "a@b.com", "type": "visit"}),
        "",
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"email": "c@d.com", "type": "visit", "url": "/fees"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    source = read_source(path, Mapping())
    assert [row.line for row in source.rows] == [1, 3, 4, 5]
    assert source.rows[1].error is not None
    assert source.rows[1].error.startswith("not valid JSON")
    assert source.rows[2].error == "expected a JSON object per line, got list"
    assert source.columns == ["email", "type", "url"]


def test_parquet_rows_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "leads.parquet"
    pq.write_table(pa.table({"email": ["a@b.com", "c@d.com"], "n": [1, 2]}), path)
    source = read_source(path, Mapping())
    assert [(r.line, r.values["n"]) for r in source.rows] == [(1, 1), (2, 2)]


def test_an_unknown_suffix_says_how_to_declare_the_format(tmp_path: Path) -> None:
    path = tmp_path / "leads.numbersx"
    path.write_bytes(b"")
    with pytest.raises(InputError, match=r"cannot tell the format from the suffix"):
        read_source(path, Mapping())


def test_a_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read the file .*check the path"):
        read_source(tmp_path / "absent.csv", Mapping())


def test_a_repeated_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("email,email\na@b.com,c@d.com\n", encoding="utf-8")
    with pytest.raises(InputError, match=r":1: column 'email' appears twice"):
        read_source(path, Mapping())
