"""Reading leads with a known outcome: names, outcome, missing values, identifiers."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from mql.errors import InputError
from mql.learn import field_name, from_records, read_leads


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    return path


ROWS = "\n".join(
    f"{i},{'Yes' if i % 3 == 0 else 'No'},{i % 7},{'Select' if i % 2 else 'Pune'},x{i}"
    for i in range(40)
)


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("Lead Origin", "lead_origin"),
        ("  What is your current occupation ", "what_is_your_current_occupation"),
        ("account.industry", "account.industry"),
        ("TotalVisits", "totalvisits"),
    ],
)
def test_snake_case_names_for_rule_ids(column: str, field: str) -> None:
    assert field_name(column) == field


def test_reads_the_outcome_marks_missing_and_drops_identifiers(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Lead Number,Converted,Visits,City,Note\n" + ROWS)
    data = read_leads(path, "converted", positive=["yes"], missing=["Select"])
    assert data.positives == 14
    assert data.features == ["Visits", "City"]  # Lead Number and Note identify rows
    assert data.frame["City"].isna().sum() == 20
    assert data.records()[:2] == [
        {"Visits": 0.0, "City": "Pune"},
        {"Visits": 1.0, "City": None},
    ]
    assert data.missing_values == ("Select",)


def test_columns_are_named_as_they_are_or_in_snake_case(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Lead Number,Converted,Visits,City,Note\n" + ROWS)
    data = read_leads(
        path, "Converted", exclude=["city"], post_contact=["Visits", "Lead Score"]
    )
    assert data.features == ["Visits"]
    assert data.post_contact == ("Visits", "Lead Score")


def test_a_missing_outcome_column_names_the_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Lead Number,Converted,Visits,City,Note\n" + ROWS)
    with pytest.raises(
        InputError, match=r"no outcome column 'won'; the columns are Lead"
    ):
        read_leads(path, "won")


def test_one_outcome_only_asks_for_the_positive_value(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Lead Number,Converted,Visits,City,Note\n" + ROWS)
    with pytest.raises(
        InputError, match=r"every lead has the same outcome.*--positive"
    ):
        read_leads(path, "Converted", positive=["won"])


def test_an_unknown_outcome_row_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Converted,Visits\n" + "1,2\n" * 25 + ",3\n" + "0,1\n" * 5)
    with pytest.raises(InputError, match=r"row 27 has no value in the outcome column"):
        read_leads(path, "Converted")


def test_too_few_leads_are_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "Converted,Visits\n1,2\n0,3\n")
    with pytest.raises(InputError, match=r"2 leads; learning needs at least 20"):
        read_leads(path, "Converted")


def test_an_unreadable_file_says_what_to_check(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read the leads file"):
        read_leads(tmp_path / "none.csv", "Converted")


def test_records_from_the_store_shape_are_accepted() -> None:
    records = [
        {"title": "Partner" if i % 2 else "Analyst", "employees": i, "converted": i % 2}
        for i in range(30)
    ]
    data = from_records(records, features=["title", "employees"])
    assert data.positives == 15
    assert data.features == ["title", "employees"]


def _outcomes(tmp_path: Path, values: list[str]) -> Path:
    rows = "".join(f"{v},{i % 5}\n" for i, v in enumerate(values))
    return _csv(tmp_path, "Converted,Visits\n" + rows)


def test_an_unrecognised_outcome_value_is_refused_with_its_row(tmp_path: Path) -> None:
    path = _outcomes(tmp_path, ["1", "0"] * 12 + ["maybe", "2"])
    with pytest.raises(
        InputError,
        match=r"leads.csv: row 26: the outcome column 'Converted' has 'maybe', "
        r"which is neither a yes .* nor a no .*; name the values that mean "
        r"converted with --positive",
    ):
        read_leads(path, "Converted")


@pytest.mark.parametrize(
    "pair",
    [
        ("1", "0"),
        ("True", "False"),
        ("yes", "NO"),
        ("y", "n"),
        ("Converted", "Not converted"),
    ],
)
def test_recognised_yes_and_no_values_are_read(
    tmp_path: Path, pair: tuple[str, str]
) -> None:
    data = read_leads(_outcomes(tmp_path, list(pair) * 15), "Converted")
    assert data.positives == 15


def test_with_positive_every_other_value_counts_as_no(tmp_path: Path) -> None:
    path = _outcomes(tmp_path, ["won", "lost", "maybe", "2"] * 8)
    data = read_leads(path, "Converted", positive=["won"])
    assert data.positives == 8
    assert len(data.outcome) == 32


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"leads.csv: the file is empty"),
        (b"\n\n", r"leads.csv: the file is empty"),
        (
            b"Converted,Visits\n",
            r"leads.csv: a header row \(Converted, Visits\) but no leads",
        ),
        (b'[{"Converted": 1}]', r"leads.csv: not a delimited text file \(JSON"),
        (b'{"Converted": 1}\n', r"leads.csv: not a delimited text file \(JSON"),
        (
            gzip.compress(b"Converted,Visits\n1,2\n", mtime=0),
            r"leads.csv: not a delimited text file \(gzip-compressed",
        ),
        (b"PK\x03\x04rest", r"leads.csv: not a delimited text file \(a ZIP"),
    ],
)
def test_files_that_are_not_leads_say_what_they_are(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_leads(path, "Converted")


def test_a_gzip_file_named_gz_is_read(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv.gz"
    path.write_bytes(gzip.compress(("Converted,Visits\n" + "1,2\n0,3\n" * 15).encode()))
    assert read_leads(path, "Converted").positives == 15


def test_no_records_say_so() -> None:
    with pytest.raises(InputError, match=r"<records>: no leads \(no rows\)"):
        from_records([])
