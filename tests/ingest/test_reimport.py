"""Importing a file again, strict order, early refusal and format hints."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mql.errors import InputError
from mql.ingest import (
    clear_quarantine,
    import_events,
    import_leads,
    list_quarantine,
    parse_mapping,
)
from mql.ingest.importer import EARLY_ROWS
from mql.store import Store, events, quarantine

from ._support import MESSY

#: Web visits with a decimal-comma property: typed as text, then as a number.
VISITS = (
    "email;type;at;url;seconds\n"
    "ana@lopez-cpa.co.uk;page_view;2025-03-01T10:00:00Z;/fees;12,5\n"
    "ana@lopez-cpa.co.uk;page_view;2025-03-02T10:00:00Z;/team;3,0\n"
    "bo@kline-law.com;download;2025-03-03T09:00:00Z;/guide.pdf;\n"
)


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar())


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_corrected_mapping_finds_the_same_events(
    store: Store, tmp_path: Path
) -> None:
    path = _file(tmp_path, "visits.csv", VISITS)
    assert import_events(store, path).imported == 3
    corrected = parse_mapping(
        "decimal: ','\nextra:\n  seconds: {column: seconds, type: number}\n"
    )
    again = import_events(store, path, mapping=corrected)
    assert (again.imported, again.duplicates) == (0, 3)
    assert _count(store, events) == 3


def test_a_declared_event_key_ignores_the_other_columns(
    store: Store, tmp_path: Path
) -> None:
    mapping = parse_mapping("event_key: [email, type, at, url]\n")
    import_events(store, _file(tmp_path, "a.csv", VISITS), mapping=mapping)
    # The same visits exported again with a different time-on-page column.
    changed = VISITS.replace("12,5", "13,0").replace("3,0", "4,0")
    again = import_events(store, _file(tmp_path, "b.csv", changed), mapping=mapping)
    assert (again.imported, again.duplicates) == (0, 3)


def test_an_event_key_naming_an_absent_column_is_refused(
    store: Store, tmp_path: Path
) -> None:
    with pytest.raises(InputError, match=r"names column\(s\) \['page'\]"):
        import_events(
            store,
            _file(tmp_path, "a.csv", VISITS),
            mapping=parse_mapping("event_key: [email, page]\n"),
        )


def test_an_event_key_in_a_leads_mapping_is_refused(store: Store) -> None:
    with pytest.raises(InputError, match="event_key: is for events files"):
        import_leads(
            store, MESSY / "bom_utf8.csv", mapping=parse_mapping("event_key: [a]\n")
        )


def test_importing_again_keeps_one_quarantine_entry_per_row(store: Store) -> None:
    first = import_leads(store, MESSY / "multiline_quoted.csv")
    again = import_leads(store, MESSY / "multiline_quoted.csv")
    assert first.quarantined >= 1
    assert (again.quarantined, again.already_quarantined) == (0, first.quarantined)
    assert _count(store, quarantine) == first.quarantined


def test_quarantine_filters_and_clear(store: Store, tmp_path: Path) -> None:
    one = import_leads(store, MESSY / "multiline_quoted.csv")
    bad = _file(tmp_path, "bad.csv", "email\nnot-an-email\n")
    two = import_leads(store, bad)
    assert [r.file for r in list_quarantine(store, file=bad)] == [str(bad)]
    assert {r.import_run_id for r in list_quarantine(store, run_id=one.run_id)} == {
        one.run_id
    }
    assert clear_quarantine(store, run_id=two.run_id) == 1
    assert list_quarantine(store, file=bad) == []
    assert clear_quarantine(store, all_entries=True) == one.quarantined
    assert _count(store, quarantine) == 0


def test_clearing_needs_a_filter(store: Store) -> None:
    with pytest.raises(InputError, match="say which entries to clear"):
        clear_quarantine(store)


def test_strict_names_the_first_bad_row_in_file_order(
    store: Store, tmp_path: Path
) -> None:
    path = _file(
        tmp_path,
        "leads.csv",
        "email,created_at\n"
        "ana@lopez-cpa.co.uk,2025-03-01T10:00:00Z\n"
        "not-an-email,2025-03-01T10:00:00Z\n"
        "bo@kline-law.com,yesterday\n",
    )
    with pytest.raises(InputError, match=r"leads.csv:3: field 'email': 'not-an-email'"):
        import_leads(store, path, strict=True)


def _day_first_rows(count: int) -> str:
    rows = [
        f"p{i}@lopez-cpa.co.uk,visit,05/03/2024 14:{i % 60:02d}" for i in range(count)
    ]
    return "email,type,at\n" + "\n".join(rows) + "\n"


def test_a_date_format_that_fits_no_first_row_stops_the_file(
    store: Store, tmp_path: Path
) -> None:
    path = _file(tmp_path, "visits.csv", _day_first_rows(EARLY_ROWS + 5))
    with pytest.raises(
        InputError,
        match=rf"visits.csv: each of the first {EARLY_ROWS} rows fails on field 'at' "
        r"the same way.*Nothing was imported; declare the dates' format in a mapping "
        r"file passed with --mapping FILE, e.g. the line `date_format: '%d/%m/%Y",
    ):
        import_events(store, path)
    assert _count(store, events) == _count(store, quarantine) == 0


def test_fewer_bad_rows_than_the_early_window_still_go_to_quarantine(
    store: Store, tmp_path: Path
) -> None:
    path = _file(tmp_path, "visits.csv", _day_first_rows(EARLY_ROWS - 1))
    report = import_events(store, path)
    assert report.quarantined == EARLY_ROWS - 1


def test_a_naive_time_with_a_mapping_says_to_add_the_zone(
    store: Store,
) -> None:
    with pytest.raises(
        InputError,
        match=r"has no time zone and the mapping declares none; add `timezone: UTC`",
    ):
        import_events(
            store, MESSY / "naive_events.csv", mapping=parse_mapping("decimal: '.'\n")
        )


@pytest.mark.parametrize("suffix", [".xlsx", ".xls", ".ods"])
def test_a_spreadsheet_says_to_save_it_as_csv(store: Store, suffix: str) -> None:
    with pytest.raises(
        InputError,
        match=r"a spreadsheet; save the sheet as CSV \(File > Save As > CSV UTF-8\)",
    ):
        import_leads(store, Path(f"contacts{suffix}"))
