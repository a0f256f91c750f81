"""Hand-worked scores from docs/scoring.md, on the batch engine (DuckDB)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from ibis.backends import BaseBackend

from mql.batch import connect, rescore
from mql.errors import EngineError, InputError
from mql.model import Model
from mql.scoring import Event

from ._support import Lead, day, model, rows_by_lead, tables

QUARTER = 91.3125

WEB = """
    name: t
    threshold: {threshold}
    groups: [{{id: web{cap}}}, {{id: risk, floor: -20}}]
    decay: {{grace_days: {grace}}}
    intent:
      - {{id: fees, event: page_view, where: {{url: {{glob: "*/fees*"}}}},
         points: 80, group: web, repeat: every}}
      - {{id: blog, event: page_view, where: {{url: {{contains: blog}}}},
         points: 40, group: web, repeat: every}}
      - {{id: unsub, event: unsubscribe, points: -15, group: risk, repeat: every}}
"""


def web_model(threshold: float = 50, cap: str = "", grace: float = 0) -> Model:
    """The two-group model of these tests."""
    return model(WEB.format(threshold=threshold, cap=cap, grace=grace))


@pytest.fixture(scope="module")
def backend() -> Iterator[BaseBackend]:
    con = connect("duckdb")
    yield con
    con.disconnect()


def view(event_id: str, n: float, url: str = "https://firm.example/fees/tax") -> Event:
    """A page view ``n`` days after T0."""
    return Event(event_id, "page_view", day(n), {"url": url})


def run(
    backend: BaseBackend, m: Model, events: list[Event], at: datetime, **attrs: Any
) -> dict[str, Any]:
    """The batch row of one lead with these events and attributes."""
    leads = [Lead("L1", dict(attrs), events)]
    result = rescore(m, *tables(m, leads), at, backend)
    return rows_by_lead(result)["L1"]


@pytest.mark.parametrize(
    ("quarters", "expected"), [(0, 80.0), (1, 60.0), (2, 45.0), (4, 25.3125)]
)
def test_80_points_lose_a_quarter_each_quarter(
    backend: BaseBackend, quarters: int, expected: float
) -> None:
    row = run(backend, web_model(), [view("e1", 0)], day(quarters * QUARTER))
    assert row["score"] == pytest.approx(expected, rel=1e-12)


def test_negative_points_do_not_decay_and_stop_at_the_floor(
    backend: BaseBackend,
) -> None:
    events = [Event("u1", "unsubscribe", day(0)), view("e1", 0)]
    row = run(backend, web_model(), events, day(QUARTER))
    assert row["v_risk"] == -15.0
    assert row["score"] == pytest.approx(60.0 - 15.0)

    more = [*events, Event("u2", "unsubscribe", day(1))]
    assert run(backend, web_model(), more, day(400))["v_risk"] == -20.0


def test_group_cap_is_applied_when_read(backend: BaseBackend) -> None:
    events = [view("e1", 0), view("e2", 0, "/blog/a"), view("e3", 0)]
    row = run(backend, web_model(cap=", cap: 100"), events, day(QUARTER))
    assert row["p_web"] == pytest.approx(200 * 0.75)
    assert row["v_web"] == 100.0


def test_grace_delays_decay_between_and_after_activities(backend: BaseBackend) -> None:
    events = [view("e1", 0), view("e2", 60, "/blog/a")]
    row = run(backend, web_model(grace=30), events, day(60 + 30 + QUARTER))
    at_second = 80 * 0.75 ** (30 / QUARTER) + 40
    assert row["score"] == pytest.approx(0.75 * at_second, rel=1e-12)


@pytest.mark.parametrize(
    ("repeat", "expected"),
    [
        ("every", 50.0),
        ("once", 10.0),
        ("{once_per: asset}", 20.0),
        ("{min_count: 3}", 10.0),
    ],
)
def test_repeat_modes_count_matches_per_lead(
    backend: BaseBackend, repeat: str, expected: float
) -> None:
    m = model(
        f"""
        name: t
        threshold: 50
        decay: {{rate: 0}}
        groups: [{{id: content}}]
        intent:
          - {{id: dl, event: download, points: 10, group: content, repeat: {repeat}}}
        """
    )
    assets = ["Guide", "guide ", "checklist", "", None]
    events = [
        Event(f"d{k}", "download", day(k), {"asset": a} if a is not None else {})
        for k, a in enumerate(assets)
    ]
    assert run(backend, m, events, day(10))["score"] == expected


def test_late_duplicate_and_future_events(backend: BaseBackend) -> None:
    events = [view("e2", 5), view("e1", 0), view("e1", 0), view("e3", 30)]
    row = run(backend, web_model(cap=", cap: 500"), events, day(10))
    expected = 80 * 0.75 ** (10 / QUARTER) + 80 * 0.75 ** (5 / QUARTER)
    assert row["score"] == pytest.approx(expected, rel=1e-12)
    assert row["last_activity"] == day(5)


def test_mql_until_is_where_the_score_meets_the_threshold(backend: BaseBackend) -> None:
    row = run(backend, web_model(threshold=45), [view("e1", 0)], day(1))
    assert row["mql"] is True
    assert abs((row["mql_until"] - day(2 * QUARTER)).total_seconds()) < 1e-3


def test_mql_until_waits_for_a_cap_to_stop_binding(backend: BaseBackend) -> None:
    # 160 points capped at 60: the value leaves the cap after ln(60/160)/ln(0.75)
    # quarters, then falls from 60 to the threshold 45 in one more quarter.
    events = [view("e1", 0), view("e2", 0)]
    row = run(backend, web_model(threshold=45, cap=", cap: 60"), events, day(0))
    quarters = math.log(45 / 160) / math.log(0.75)
    assert abs((row["mql_until"] - day(quarters * QUARTER)).total_seconds()) < 1e-3


def test_fit_alone_holds_an_mql_for_ever(backend: BaseBackend) -> None:
    m = model(
        """
        name: t
        threshold: 20
        groups: [{id: web}]
        fit: [{id: big, when: {employees: {min: 50}}, points: 25}]
        intent: [{id: v, event: page_view, points: 10, group: web, repeat: every}]
        """
    )
    row = run(backend, m, [view("e1", 0)], day(1), employees="200")
    assert (row["fit"], row["grade"], row["mql"], row["mql_until"]) == (
        25.0,
        "B",
        True,
        None,
    )


def test_disqualified_lead_keeps_its_score_but_is_no_mql(backend: BaseBackend) -> None:
    m = model(
        """
        name: t
        threshold: 20
        total_cap: 30
        groups: [{id: web}]
        intent: [{id: v, event: page_view, points: 80, group: web, repeat: every}]
        disqualifiers:
          - {id: student, when: {title: {regex: "stud(ent|y)"}}, reason: student}
        """
    )
    row = run(backend, m, [view("e1", 0)], day(0), title="PhD Student")
    assert (row["score"], row["mql"], row["disqualified_reason"]) == (
        30.0,
        False,
        "student",
    )
    assert row["mql_until"] is None


def test_min_grade_keeps_low_fit_leads_out(backend: BaseBackend) -> None:
    m = model(
        """
        name: t
        threshold: 20
        min_grade: B
        groups: [{id: web}]
        fit: [{id: vp, when: {title: {contains: VP}}, points: 30}]
        intent: [{id: v, event: page_view, points: 80, group: web, repeat: every}]
        """
    )
    assert run(backend, m, [view("e1", 0)], day(0), title="vp, tax")["mql"] is True
    assert run(backend, m, [view("e1", 0)], day(0), title="analyst")["mql"] is False


def test_a_lead_without_events_is_scored_on_fit(backend: BaseBackend) -> None:
    row = run(backend, web_model(), [], day(0))
    assert (row["score"], row["mql"], row["last_activity"]) == (0.0, False, None)


def test_naive_instant_is_refused(backend: BaseBackend) -> None:
    with pytest.raises(InputError, match=r"at 2025-01-06T09:00:00 has no time zone"):
        run(backend, web_model(), [], day(0).replace(tzinfo=None))


def test_unknown_engine_names_the_choices() -> None:
    with pytest.raises(EngineError, match="unknown batch engine 'oracle'; choose one"):
        connect("oracle")


def test_postgres_engine_needs_a_url() -> None:
    with pytest.raises(EngineError, match="the postgres engine needs a database URL"):
        connect("postgres")


def test_instant_is_inclusive(backend: BaseBackend) -> None:
    at = day(3) + timedelta(microseconds=250)
    events = [Event("e1", "page_view", at, {"url": "/fees"})]
    assert run(backend, web_model(), events, at)["score"] == 80.0
    assert (
        run(backend, web_model(), events, at - timedelta(microseconds=1))["score"] == 0
    )
