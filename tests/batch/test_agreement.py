"""The batch engine agrees with the per-lead engine on random histories."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from ibis.backends import BaseBackend

from mql.batch import connect, rescore
from mql.batch.store_io import score_rows
from mql.model import Model
from mql.scoring import Event, LeadState, read, replay

from ._support import (
    REL,
    T0,
    Lead,
    assert_same,
    assert_same_state,
    day,
    histories,
    model,
    models,
    tables,
)

SETTINGS = settings(
    max_examples=int(os.environ.get("MQL_BATCH_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Shrinking against a database server takes minutes; the failing case is printed.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)


@pytest.fixture(scope="module")
def duckdb_backend() -> Iterator[object]:
    backend = connect("duckdb")
    yield backend
    backend.disconnect()


def _check(backend: object, m: Model, leads: list[Lead], at: datetime) -> None:
    events, roster = tables(m, leads)
    result = rescore(m, events, roster, at, backend)  # type: ignore[arg-type]
    assert_same(m, leads, result, at)


@SETTINGS
@given(m=models(), history=histories())
def test_duckdb_agrees_with_per_lead_engine(
    duckdb_backend: object, m: Model, history: tuple[list[Lead], datetime]
) -> None:
    _check(duckdb_backend, m, *history)


@pytest.mark.postgres
@settings(SETTINGS, max_examples=SETTINGS.max_examples // 2, phases=NO_SHRINK)
@given(m=models(), history=histories())
def test_postgres_agrees_with_per_lead_engine(
    postgres_url: str, m: Model, history: tuple[list[Lead], datetime]
) -> None:
    backend = connect("postgres", postgres_url)
    try:
        _check(backend, m, *history)
    finally:
        backend.disconnect()


def _unique(leads: list[Lead]) -> list[Lead]:
    """The same leads with each event once (the first copy fed)."""
    out = []
    for lead in leads:
        seen: dict[str, Event] = {}
        for event in lead.events:
            seen.setdefault(event.id, event)
        out.append(Lead(lead.id, lead.attributes, list(seen.values())))
    return out


def _check_unique(backend: object, m: Model, leads: list[Lead], at: datetime) -> None:
    events, roster = tables(m, leads)
    result = rescore(m, events, roster, at, backend, dedupe=False)  # type: ignore[arg-type]
    assert_same(m, leads, result, at)


@SETTINGS
@given(m=models(), history=histories())
def test_duckdb_agrees_when_told_ids_are_unique(
    duckdb_backend: object, m: Model, history: tuple[list[Lead], datetime]
) -> None:
    # dedupe=False reads the events of once_per and min_count rules separately.
    _check_unique(duckdb_backend, m, _unique(history[0]), history[1])


TIED = model(
    """
    name: tied
    threshold: 30
    groups: [{id: web, cap: 100}]
    intent:
      - {id: view, event: page_view, points: 1, group: web, repeat: every}
      - {id: third, event: page_view, points: 20, group: web, repeat: {min_count: 3}}
      - {id: guide, event: download, points: 10, group: web, repeat: {once_per: asset}}
      - {id: first, event: download, points: 7, group: web, repeat: once}
    """
)


def _tied_leads() -> list[Lead]:
    """Matches at the same instant: which comes first must not change a score."""
    same, later = day(10), day(12)
    views = [Event(f"v{i}", "page_view", same if i < 3 else later) for i in range(5)]
    guides = [
        Event("g1", "download", same, {"asset": "Guide"}),
        Event("g2", "download", same, {"asset": "guide "}),
        Event("g3", "download", later, {"asset": "Other"}),
    ]
    return [Lead("L1", {}, views + guides), Lead("L2", {}, list(reversed(views)))]


@pytest.mark.parametrize("dedupe", [True, False])
def test_ties_in_time_score_alike(duckdb_backend: object, dedupe: bool) -> None:
    events, roster = tables(TIED, _tied_leads())
    at = day(40)
    result = rescore(TIED, events, roster, at, duckdb_backend, dedupe=dedupe)  # type: ignore[arg-type]
    assert_same(TIED, _tied_leads(), result, at)


@pytest.mark.postgres
def test_postgres_ties_in_time_score_alike(postgres_url: str) -> None:
    backend = connect("postgres", postgres_url)
    try:
        events, roster = tables(TIED, _tied_leads())
        result = rescore(TIED, events, roster, day(40), backend, dedupe=False)
        assert_same(TIED, _tied_leads(), result, day(40))
    finally:
        backend.disconnect()


def _numbered(leads: list[Lead]) -> list[Lead]:
    """The same leads with numeric ids, as the store has."""
    return [Lead(str(i + 1), x.attributes, x.events) for i, x in enumerate(leads)]


@SETTINGS
@given(m=models(), history=histories())
def test_stored_rows_agree_with_per_lead_states(
    duckdb_backend: BaseBackend, m: Model, history: tuple[list[Lead], datetime]
) -> None:
    leads, at = _numbered(history[0]), history[1]
    events, roster = tables(m, leads)
    rows = {
        r["lead_id"]: r for r in score_rows(m, events, roster, at, duckdb_backend, "")
    }
    for lead in leads:
        want = replay(m, lead.attributes, [e for e in lead.events if e.at <= at])
        row = rows[int(lead.id)]
        got = LeadState.from_json(row["state"])
        assert_same_state(got, want, lead.id)
        if want.last_activity is not None:
            read_back = read(m, want, want.last_activity)
            assert math.isclose(row["score"], read_back.score, rel_tol=REL, abs_tol=REL)


@pytest.mark.postgres
def test_postgres_reads_decay_far_below_the_smallest_double(postgres_url: str) -> None:
    # 90% a day over 400 days: exp() underflows, which PostgreSQL treats as an error.
    m = Model.model_validate(
        {
            "name": "steep",
            "threshold": 20,
            "decay": {"rate": 0.9, "period_days": 1.0, "grace_days": 2.0},
            "groups": [{"id": "g0", "floor": -20}],
            "intent": [
                {"id": "r1", "event": "page_view", "points": 40, "group": "g0",
                 "repeat": "every"},
            ],
        }
    )  # fmt: skip
    leads = [
        Lead(
            "L0", {}, [Event("e1", "page_view", T0), Event("e2", "page_view", day(400))]
        ),
        Lead("L1", {}, [Event("e3", "page_view", T0)]),
    ]
    backend = connect("postgres", postgres_url)
    try:
        for at in (day(401), day(500)):
            _check(backend, m, leads, at)
    finally:
        backend.disconnect()
