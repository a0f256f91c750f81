"""Reading leads with a known outcome: names, outcome, missing values, identifiers."""

from __future__ import annotations

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
