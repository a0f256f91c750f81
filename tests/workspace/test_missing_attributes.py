"""Attributes a model reads that no stored lead has, with their near matches."""

from __future__ import annotations

from pathlib import Path

from mql.model import parse_model
from mql.store import Store
from mql.workspace import MissingAttribute, import_leads, missing_attributes

MODEL = parse_model(
    """\
name: t
threshold: 10
fit:
  - id: senior
    when: {title: Partner}
    points: 20
  - id: big
    when: {account.employees: {min: 50}}
    points: 10
  - id: known-domain
    when: {email_domain: {present: true}}
    points: 1
disqualifiers:
  - id: student
    when: {occupation: student}
    reason: a student
  - id: title-intern
    when: {title: Intern}
    reason: an intern
"""
)


def test_no_leads_no_findings(store: Store) -> None:
    assert missing_attributes(store, MODEL) == []


def test_missing_attributes_name_near_matches(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(
        "email,Title,account.employees,Ocupation\n"
        "ana@lopez-cpa.co.uk,Partner,120,accountant\n",
        encoding="utf-8",
    )
    import_leads(store, path)
    found = missing_attributes(store, MODEL)
    assert found == [
        MissingAttribute("occupation", ("student",), ("Ocupation",)),
        MissingAttribute("title", ("senior", "title-intern"), ("Title",)),
    ]
    assert "add `title: Title` under extra:" in found[1].message


def test_a_name_with_no_near_match_says_to_check_it(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("email\nana@lopez-cpa.co.uk\n", encoding="utf-8")
    import_leads(store, path)
    by_name = {f.name: f for f in missing_attributes(store, MODEL)}
    assert "email_domain" not in by_name
    assert by_name["account.employees"].near == ()
    assert by_name["account.employees"].message.endswith(
        "check the name, or map a column to it under extra:"
    )
