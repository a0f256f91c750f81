"""Reading the store's events into the engine's layout: every property as the
text the per-lead engine reads, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mql.batch.layout import as_text
from mql.batch.store_io import read_store
from mql.model import Model
from mql.store import Store, events, leads

from ._support import model

NOW = datetime(2025, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
STRINGS: list[dict[str, Any]] = [
    {"url": "/fees", "utm.source": "linkedin"},
    {"url": 'say "hi" \\ back', "form": "Zürich — naïve ☃"},
    {"url": "line\nbreak\ttab", "form": None},
    {},
]
#: Values that are not strings: a number, a float, booleans, an object, a list.
OTHERS: list[dict[str, Any]] = [
    {"url": "/pricing", "form": 3},
    {"form": 2.5, "attended": True},
    {"attended": False, "utm.source": {"nested": 1}},
    {"url": ["a", "b"], "form": 10**20},
]


def _model() -> Model:
    return model(
        """
        name: read
        threshold: 10
        groups: [{id: web}]
        intent:
          - {id: u, event: page_view, where: {url: {present: true}}, points: 5,
             group: web, repeat: every}
          - {id: f, event: form_submit, where: {form: {present: true}}, points: 5,
             group: web, repeat: every}
          - {id: w, event: webinar, where: {attended: true}, points: 5, group: web,
             repeat: every}
          - {id: s, event: ad_click, where: {utm.source: linkedin}, points: 5,
             group: web, repeat: every}
        """
    )


def _seed(store: Store, props: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = [
        {"event_key": f"id:e{n}", "lead_id": 1 + n % 2, "type": "page_view",
         "at": NOW - timedelta(days=n, microseconds=n), "properties": p}
        for n, p in enumerate(props)
    ]  # fmt: skip
    later = {"event_key": "id:late", "lead_id": 1, "type": "page_view",
             "at": NOW + timedelta(seconds=1),
             "properties": {"url": "/late"}}  # fmt: skip
    with store.begin() as conn:
        conn.execute(
            leads.insert(),
            [{"id": i, "email": f"p{i}@firm.example", "attributes": {},
              "created_at": NOW, "updated_at": NOW} for i in (1, 2)],
        )  # fmt: skip
        conn.execute(events.insert(), [*rows, later])
    return rows


@pytest.mark.parametrize("props", [STRINGS, STRINGS + OTHERS], ids=["strings", "mixed"])
def test_each_property_reads_as_the_per_lead_engine_reads_it(
    store: Store, props: list[dict[str, Any]]
) -> None:
    rows = _seed(store, props)
    table, _ = read_store(store, _model(), NOW)
    got = {r["id"]: r for r in table.to_pylist()}
    assert set(got) == {r["event_key"] for r in rows}  # the later event is left out
    names = ["attended", "form", "url", "utm.source"]
    assert set(table.column_names) == {"lead", "id", "type", "ts", "at", *names}
    for row in rows:
        read = got[row["event_key"]]
        assert read["lead"] == str(row["lead_id"])
        assert read["at"] == row["at"]
        assert read["ts"] == row["at"].timestamp()
        for name in names:
            assert read[name] == as_text(row["properties"].get(name)), (row, name)


def test_no_events_is_an_empty_table_with_the_columns(store: Store) -> None:
    table, leads_read = read_store(store, _model(), NOW)
    assert table.num_rows == 0
    assert {"lead", "id", "ts", "url", "utm.source"} <= set(table.column_names)
    assert leads_read.num_rows == 0
