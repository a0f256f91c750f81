"""Importing leads and events into the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from mql.errors import InputError
from mql.ingest import import_events, import_leads, list_quarantine
from mql.store import Store, accounts, events, import_runs, leads

from ._support import MESSY


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar())


def _leads(store: Store) -> dict[str, Any]:
    query = sa.select(
        leads,
        accounts.c.domain.label("account_domain"),
        accounts.c.attributes.label("account_attributes"),
    ).select_from(leads.outerjoin(accounts))
    with store.engine.connect() as conn:
        return {r.email or r.external_id: r for r in conn.execute(query)}


def _csv(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_imported_twice_changes_nothing_the_second_time(store: Store) -> None:
    first = import_leads(store, MESSY / "bom_utf8.csv")
    assert (first.read, first.imported, first.duplicates) == (2, 2, 0)
    second = import_leads(store, MESSY / "bom_utf8.csv")
    assert (second.read, second.imported, second.updated, second.duplicates) == (
        2,
        0,
        0,
        2,
    )
    assert _count(store, leads) == 2
    assert _count(store, accounts) == 1
    assert _count(store, import_runs) == 2


def test_accounts_by_registered_domain_and_none_for_free_mail(store: Store) -> None:
    import_leads(store, MESSY / "bom_utf8.csv")
    found = _leads(store)
    assert found["ana@lopez-cpa.co.uk"].account_domain == "lopez-cpa.co.uk"
    assert found["ben@gmail.com"].account_id is None
    # "company" is a known header: it names the account.
    assert found["ana@lopez-cpa.co.uk"].attributes == {"name": "Ana López"}
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(accounts.c.name)).scalar() == "López CPA"


def test_colleagues_share_one_account(store: Store) -> None:
    report = import_leads(store, MESSY / "tab_delimited.csv")
    assert report.imported == 2
    assert report.accounts_created == 1
    assert {r.account_domain for r in _leads(store).values()} == {"brightpath.co.uk"}


def test_decimal_commas_and_account_fields(store: Store) -> None:
    import_leads(
        store,
        MESSY / "semicolon_decimal_comma.csv",
        MESSY / "semicolon_decimal_comma.yaml",
    )
    mia = _leads(store)["mia@harbor-law.co.uk"]
    assert mia.attributes["employees"] == 1250
    assert mia.account_attributes == {"revenue": 2500000.75}
    assert "account.revenue" not in mia.attributes


def test_quarantine_points_at_the_physical_line(store: Store) -> None:
    report = import_leads(store, MESSY / "multiline_quoted.csv")
    assert (report.read, report.imported, report.quarantined) == (4, 3, 1)
    (row,) = list_quarantine(store)
    assert (row.line, row.field, row.import_run_id) == (5, "email", report.run_id)
    assert row.reason.startswith("'not-an-email' is not a valid email address")
    assert row.raw == ["not-an-email", "Bad Row", "plain"]
    assert row.file.endswith("multiline_quoted.csv")
    assert _leads(store)["ivy@oakridge.co.uk"].attributes["notes"] == (
        "first line\r\nsecond line\r\nthird line"
    )


@pytest.mark.parametrize(
    "name", ["endings_lf.csv", "endings_crlf.csv", "endings_cr.csv"]
)
def test_line_endings(store: Store, name: str) -> None:
    report = import_leads(store, MESSY / name)
    assert (report.imported, report.quarantined) == (3, 1)
    assert [q.line for q in list_quarantine(store)] == [4]


def test_windows_1252_imports_with_a_note(store: Store) -> None:
    report = import_leads(store, MESSY / "windows_1252.csv")
    assert report.imported == 2
    assert any("is not UTF-8" in note for note in report.notes)
    rene = _leads(store)["rene@societe-conseil.co.uk"]
    assert rene.attributes == {"name": "René Dubois", "note": "“Fees” from €5k"}


def test_trailing_empty_columns_are_ignored(store: Store) -> None:
    report = import_leads(store, MESSY / "trailing_columns.csv")
    assert (report.imported, report.quarantined) == (2, 0)
    kim = _leads(store)["kim@alder-advisory.co.uk"]
    assert kim.attributes == {"name": "Kim Alder", "title": "Partner"}


def test_excel_dates_and_outcomes(store: Store) -> None:
    report = import_leads(store, MESSY / "excel_dates.csv", MESSY / "excel_dates.yaml")
    assert (report.imported, report.quarantined) == (2, 1)
    found = _leads(store)
    nia = found["nia@quill-law.co.uk"]
    assert nia.created_at == datetime(2024, 3, 1, 5, 0, tzinfo=UTC)
    assert (nia.converted, found["omar@quill-law.co.uk"].converted) == (True, False)
    (problem,) = list_quarantine(store)
    assert (problem.line, problem.field) == (4, "created_at")
    assert "expected an Excel serial date" in problem.reason


def test_day_first_events_in_the_declared_zone(store: Store) -> None:
    report = import_events(
        store, MESSY / "day_first_events.csv", MESSY / "day_first_events.yaml"
    )
    assert (report.read, report.imported, report.quarantined) == (3, 2, 1)
    assert report.leads_created == 1
    with store.engine.connect() as conn:
        instants = conn.execute(sa.select(events.c.at).order_by(events.c.at)).scalars()
        assert list(instants) == [
            datetime(2024, 3, 5, 14, 30, tzinfo=UTC),  # London is on GMT in March
            datetime(2024, 12, 31, 9, 5, tzinfo=UTC),
        ]
    (problem,) = list_quarantine(store)
    assert (problem.line, problem.field) == (4, "at")


def test_naive_times_without_a_zone_stop_the_file_and_write_nothing(
    store: Store,
) -> None:
    with pytest.raises(
        InputError,
        match=r"naive_events.csv:2: field 'at' \(column 'at'\): '2024-03-05 14:30' "
        r"has no time zone and no mapping declares one; write a mapping file with "
        r"the line `timezone: UTC` .* and pass it with --mapping FILE",
    ):
        import_events(store, MESSY / "naive_events.csv")
    assert (
        _count(store, leads) == _count(store, events) == _count(store, import_runs) == 0
    )


def test_first_touch_and_referral_are_never_overwritten(
    store: Store, tmp_path: Path
) -> None:
    first = _csv(
        tmp_path,
        "first.csv",
        "email,source,referred_by,title\n"
        "ana@lopez-cpa.co.uk,Referral,Pat Reyes (Reyes Law),\n",
    )
    later = _csv(
        tmp_path,
        "later.csv",
        "email,source,referred_by,title\n"
        "ANA@lopez-cpa.co.uk,Google Ads,Someone Else,Controller\n"
        "ana@lopez-cpa.co.uk,,,\n",
    )
    import_leads(store, first)
    report = import_leads(store, later)
    assert (report.updated, report.duplicates) == (1, 1)
    ana = _leads(store)["ana@lopez-cpa.co.uk"]
    assert ana.first_source == "Referral"
    assert ana.referral_source == "Pat Reyes (Reyes Law)"
    assert ana.attributes == {"title": "Controller"}


def test_one_lead_per_email_whatever_its_case(store: Store, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "dupes.csv",
        "email,name\nAna@Lopez-CPA.co.uk,Ana\n ana@lopez-cpa.co.uk ,Ana L.\n",
    )
    report = import_leads(store, path)
    assert (report.imported, report.updated) == (1, 1)
    assert list(_leads(store)) == ["ana@lopez-cpa.co.uk"]


def test_leads_without_email_by_external_id(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path, "crm.csv", "external_id,stage\nC-1,new\nC-2,new\nC-1,open\n")
    report = import_leads(store, path)
    assert (report.imported, report.updated) == (2, 1)
    assert _leads(store)["C-1"].attributes == {"stage": "open"}


def test_an_email_and_id_of_two_leads_is_quarantined(
    store: Store, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "crm.csv",
        "email,external_id\na@lopez-cpa.co.uk,C-1\nb@lopez-cpa.co.uk,C-2\n"
        "a@lopez-cpa.co.uk,C-2\n",
    )
    report = import_leads(store, path)
    assert (report.imported, report.quarantined) == (2, 1)
    (problem,) = list_quarantine(store)
    assert problem.line == 4
    assert problem.reason == (
        "email 'a@lopez-cpa.co.uk' belongs to one lead and external id 'C-2' to "
        "another; fix the row or merge the leads"
    )


def test_a_row_without_identity_is_quarantined(store: Store, tmp_path: Path) -> None:
    path = _csv(tmp_path, "x.csv", "email,name\n,Nobody\n")
    report = import_leads(store, path)
    assert report.quarantined == 1
    assert "neither an email nor an external id" in list_quarantine(store)[0].reason


def test_events_are_stored_once_by_source_id(store: Store, tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "web.csv",
        "event_id,email,type,at\n"
        "e1,ana@lopez-cpa.co.uk,page_view,2025-03-01T10:00:00Z\n"
        "e1,ana@lopez-cpa.co.uk,page_view,2025-03-01T10:00:00Z\n"
        "e2,ana@lopez-cpa.co.uk,page_view,2025-03-02T10:00:00Z\n",
    )
    first = import_events(store, path)
    assert (first.imported, first.duplicates) == (2, 1)
    again = import_events(store, path)
    assert (again.imported, again.duplicates) == (0, 3)
    assert _count(store, events) == 2


def test_events_without_ids_are_stored_once_by_content(
    store: Store, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        "web.csv",
        "email,type,at,url\n"
        "ana@lopez-cpa.co.uk,page_view,2025-03-01T10:00:00Z,/fees\n"
        "ana@lopez-cpa.co.uk,page_view,2025-03-01T10:00:00Z,/fees\n"
        "ana@lopez-cpa.co.uk,page_view,2025-03-01T10:00:00Z,/team\n",
    )
    assert import_events(store, path).imported == 2
    assert import_events(store, path).duplicates == 3
    with store.engine.connect() as conn:
        keys = list(conn.execute(sa.select(events.c.event_key)).scalars())
    assert all(k.startswith("sha256:") and len(k) == 71 for k in keys)


def test_strict_stops_at_the_first_bad_row_and_writes_nothing(store: Store) -> None:
    with pytest.raises(
        InputError, match=r"multiline_quoted.csv:5: field 'email': 'not-an-email'"
    ):
        import_leads(store, MESSY / "multiline_quoted.csv", strict=True)
    assert _count(store, leads) == 0


def test_progress_is_reported(store: Store) -> None:
    calls: list[tuple[int, int]] = []
    import_leads(
        store, MESSY / "endings_lf.csv", progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (4, 4)


def test_one_info_line_per_import(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="mql.ingest"):
        import_leads(store, MESSY / "endings_lf.csv")
    lines = [r for r in caplog.records if r.name == "mql.ingest.importer"]
    assert len(lines) == 1
    assert "read 4, imported 3, updated 0, duplicates 0, quarantined 1" in (
        lines[0].getMessage()
    )


def test_json_lines_events(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    rows = [
        {
            "email": "ana@lopez-cpa.co.uk",
            "type": "webinar",
            "at": "2025-03-01T10:00:00+01:00",
            "title": "Year-end tax",
        },
        {"email": "ana@lopez-cpa.co.uk", "type": "webinar"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    report = import_events(store, path)
    assert (report.imported, report.quarantined) == (1, 1)
    assert list_quarantine(store)[0].reason == "the event has no at"
    with store.engine.connect() as conn:
        event = conn.execute(sa.select(events)).one()
    assert event.at == datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    assert event.properties == {"title": "Year-end tax"}


def test_parquet_leads(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "leads.parquet"
    table = pa.table(
        {
            "email": ["ana@lopez-cpa.co.uk", "bad"],
            "employees": [40, 7],
            "created_at": [datetime(2025, 1, 2, tzinfo=UTC)] * 2,
        }
    )
    pq.write_table(table, path)
    report = import_leads(store, path)
    assert (report.imported, report.quarantined) == (1, 1)
    ana = _leads(store)["ana@lopez-cpa.co.uk"]
    assert ana.created_at == datetime(2025, 1, 2, tzinfo=UTC)
    assert ana.attributes == {"employees": 40}
    assert list_quarantine(store)[0].raw["created_at"].startswith("2025-01-02")


def test_a_file_without_an_identity_column_says_how_to_map_one(
    store: Store, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "x.csv", "name\nAna\n")
    with pytest.raises(InputError, match=r"no column identifies the lead; map one"):
        import_leads(store, path)


def test_a_mapping_naming_an_absent_column_lists_the_columns(
    store: Store, tmp_path: Path
) -> None:
    path = _csv(tmp_path, "x.csv", "mail,name\na@b.com,Ana\n")
    mapping = _csv(tmp_path, "m.yaml", "fields:\n  email: E-mail\n")
    with pytest.raises(
        InputError, match=r"names column\(s\) \['E-mail'\] .* its columns are \['mail'"
    ):
        import_leads(store, path, mapping)


def test_accounts_by_external_id_or_website(store: Store, tmp_path: Path) -> None:
    first = _csv(
        tmp_path,
        "crm.csv",
        "email,company_id,website,company\n"
        "ana@gmail.com,A-1,https://www.lopez-cpa.co.uk/about,López CPA\n"
        "dan@yahoo.com,A-1,,\n"
        "eve@outlook.com,,harbor-law.com,Harbor Law\n",
    )
    report = import_leads(store, first)
    assert (report.imported, report.accounts_created) == (3, 2)
    later = _csv(
        tmp_path,
        "crm2.csv",
        "email,company_id,company\nana@gmail.com,A-1,López & Partners CPA\n",
    )
    assert import_leads(store, later).updated == 1
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                accounts.c.external_id, accounts.c.domain, accounts.c.name
            ).order_by(accounts.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("A-1", "lopez-cpa.co.uk", "López & Partners CPA"),
        (None, "harbor-law.com", "Harbor Law"),
    ]
    found = _leads(store)
    assert found["dan@yahoo.com"].account_domain == "lopez-cpa.co.uk"
