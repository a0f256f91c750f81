"""mql_until: closed form, bisection under caps and floors, and when it is None."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from mql.scoring import mql_until, read, replay, score

from ._support import QUARTER_DAYS, day, ev, intent_model, model

SECOND = timedelta(seconds=1)


def assert_first_instant_below(m, state, until: datetime) -> None:
    assert read(m, state, until - SECOND).score >= m.threshold
    assert read(m, state, until + SECOND).score < m.threshold


@pytest.mark.parametrize(
    ("threshold", "extra", "lapse_days"),
    [
        (60, "", QUARTER_DAYS),
        (45, "", 2 * QUARTER_DAYS),
        (60, "decay: {grace_days: 30}", 30 + QUARTER_DAYS),
        (80, "decay: {grace_days: 30}", 30),
        (40, "decay: {rate: 0.5, period_days: 30}", 30),
    ],
)
def test_closed_form_by_hand(threshold: float, extra: str, lapse_days: float):
    m = intent_model(
        "{id: fees, event: view, points: 80, group: web, repeat: every}",
        threshold=threshold,
        extra=extra,
    )
    state = replay(m, {}, [ev("a", "view", 0)])
    until = mql_until(m, state, day(0))
    assert until is not None
    assert abs((until - day(lapse_days)).total_seconds()) < 1e-3
    assert_first_instant_below(m, state, until)


def test_not_an_mql_has_no_end():
    m = intent_model(
        "{id: fees, event: view, points: 30, group: web, repeat: every}", threshold=50
    )
    assert mql_until(m, replay(m, {}, [ev("a", "view", 0)]), day(0)) is None


@pytest.mark.parametrize(
    ("extra", "groups"),
    [
        ("fit: [{id: vp, when: {title: VP}, points: 90}]", "[{id: web}]"),
        ("decay: {rate: 0}", "[{id: web}]"),
        ("fit: [{id: vp, when: {title: VP}, points: 60}]", "[{id: web, floor: -5}]"),
    ],
    ids=["fit-holds", "no-decay", "floor-holds"],
)
def test_none_when_nothing_can_take_it_below(extra: str, groups: str):
    """floor-holds: 60 fit + max(-5, 80 d - 30) never falls below 55 >= 50."""
    m = intent_model(
        """
        {id: fees, event: view, points: 80, group: web, repeat: every}
        {id: careers, event: careers, points: -30, group: web, repeat: once}
        """,
        threshold=50,
        extra=extra,
        groups=groups,
    )
    events = [ev("a", "view", 0), ev("b", "careers", 0)]
    result = score(m, {"title": "VP"}, events, day(1))
    assert result.mql
    assert result.mql_until is None


def test_without_the_floor_the_penalty_makes_it_lapse():
    """The floor-holds case less its floor: 60 + 80 d - 30 meets 50 at d = 1/4."""
    m = intent_model(
        """
        {id: fees, event: view, points: 80, group: web, repeat: every}
        {id: careers, event: careers, points: -30, group: web, repeat: once}
        """,
        threshold=50,
        extra="fit: [{id: vp, when: {title: VP}, points: 60}]",
    )
    state = replay(m, {"title": "VP"}, [ev("a", "view", 0), ev("b", "careers", 0)])
    until = mql_until(m, state, day(0))
    assert until is not None
    quarters = (until - day(0)).total_seconds() / (QUARTER_DAYS * 86_400)
    assert 0.75**quarters == pytest.approx(1 / 4, rel=1e-9)


def test_penalties_count_in_the_end():
    """60 fit - 20 penalty + 80 decaying: lapses when 80 d = 10, d = 1/8."""
    m = model(
        """
        name: t
        threshold: 50
        groups: [{id: web}]
        fit: [{id: vp, when: {title: VP}, points: 60}]
        intent:
          - {id: fees, event: view, points: 80, group: web, repeat: every}
          - {id: careers, event: careers, points: -20, group: web, repeat: once}
        """
    )
    state = replay(m, {"title": "VP"}, [ev("a", "view", 0), ev("b", "careers", 0)])
    until = mql_until(m, state, day(0))
    assert until is not None
    quarters = (until - day(0)).total_seconds() / (QUARTER_DAYS * 86_400)
    assert 0.75**quarters == pytest.approx(1 / 8, rel=1e-9)
    assert_first_instant_below(m, state, until)


@pytest.mark.parametrize(
    ("groups", "extra"),
    [
        ("[{id: web, cap: 70}, {id: news, cap: 15}]", ""),
        ("[{id: web, floor: -5}, {id: news}]", ""),
        ("[{id: web}, {id: news, decay: {rate: 0.5, period_days: 30}}]", ""),
        ("[{id: web}, {id: news}]", "total_cap: 60"),
    ],
    ids=["caps", "floor", "two-decays", "total-cap"],
)
def test_bisection_when_clamps_bind(groups: str, extra: str):
    m = intent_model(
        """
        {id: fees, event: view, points: 80, group: web, repeat: every}
        {id: careers, event: careers, points: -30, group: web, repeat: once}
        {id: click, event: click, points: 10, group: news, repeat: every}
        """,
        threshold=40,
        groups=groups,
        extra=extra,
    )
    events = [
        ev("a", "view", 0),
        ev("b", "click", 1),
        ev("c", "click", 2),
        ev("d", "careers", 3),
        ev("e", "view", 4),
    ]
    state = replay(m, {}, events)
    assert read(m, state, day(4)).mql
    until = mql_until(m, state, day(4))
    assert until is not None
    assert_first_instant_below(m, state, until)
    assert score(m, {}, events, day(4)).mql_until == until


def test_mql_until_is_the_same_from_any_later_read_instant():
    m = intent_model(
        "{id: fees, event: view, points: 80, group: web, repeat: every}", threshold=50
    )
    state = replay(m, {}, [ev("a", "view", 0)])
    first = mql_until(m, state, day(0))
    assert first is not None
    assert mql_until(m, state, day(50)) == first
    assert mql_until(m, state, first + SECOND) is None


@pytest.mark.parametrize(
    "groups", ["[{id: web}]", "[{id: web, cap: 79}, {id: other}]"], ids=str
)
def test_none_when_the_lapse_is_past_the_last_representable_instant(groups: str):
    """At 0.0001% a year, 80 points take ~300,000 years to fall to 60."""
    m = intent_model(
        "{id: fees, event: view, points: 80, group: web, repeat: every}",
        threshold=60,
        groups=groups,
        extra="decay: {rate: 0.000001, period_days: 365.25}",
    )
    state = replay(m, {}, [ev("a", "view", 0)])
    assert read(m, state, day(0)).mql
    assert mql_until(m, state, day(0)) is None
