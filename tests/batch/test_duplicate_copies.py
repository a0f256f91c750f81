"""Copies of one event id at one instant: the batch engine keeps the per-lead one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from ibis.backends import BaseBackend

from mql.batch import connect, rescore
from mql.scoring import Event, score

from ._support import T0, Lead, model, rows_by_lead, tables

M = model(
    """
    name: t
    threshold: 50
    groups: [{id: web}]
    intent:
      - {id: fees, event: page_view, where: {url: {glob: "*/fees*"}}, points: 80,
         group: web, repeat: every}
      - {id: guide, event: download, points: 30, group: web,
         repeat: {once_per: asset}}
    """
)

COPIES = [
    Event("x", "page_view", T0, {"url": "/fees", "ref": "a"}),
    Event("x", "page_view", T0, {"url": "/about", "ref": "b"}),
    Event("x", "nomatch", T0, {"url": "/fees"}),
    Event("x", "download", T0, {"asset": "guide"}),
    Event("x", "download", T0, {}),
]


@pytest.fixture(scope="module")
def backend() -> Iterator[BaseBackend]:
    con = connect("duckdb")
    yield con
    con.disconnect()


@pytest.mark.parametrize(
    "copies",
    [COPIES[:2], COPIES[:3], COPIES[3:], COPIES],
    ids=["url-decides", "type-decides", "missing-first", "all"],
)
def test_batch_keeps_the_copy_the_per_lead_engine_keeps(
    backend: BaseBackend, copies: list[Event]
) -> None:
    want = score(M, {}, copies, T0).score
    for order in itertools.permutations(copies):
        leads = [Lead("L1", {}, list(order))]
        row = rows_by_lead(rescore(M, *tables(M, leads), T0, backend))["L1"]
        assert row["score"] == want, order


@pytest.mark.postgres
def test_postgres_keeps_the_same_copies(postgres_url: str) -> None:
    """Text compares in code-point order there too ("/Zoo" before "/fees")."""
    copies = [
        Event("x", "page_view", T0, {"url": "/fees"}),
        Event("x", "page_view", T0, {"url": "/Zoo"}),
        Event("x", "page_view", T0, {"url": "about/fees"}),
    ]
    want = score(M, {}, copies, T0).score
    backend = connect("postgres", postgres_url)
    try:
        for order in itertools.permutations(copies):
            leads = [Lead("L1", {}, list(order))]
            row = rows_by_lead(rescore(M, *tables(M, leads), T0, backend))["L1"]
            assert row["score"] == want, order
    finally:
        backend.disconnect()
