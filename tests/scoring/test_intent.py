"""Intent rules, repeat modes, groups with cap and floor, activity and order."""

from __future__ import annotations

import pytest

from mql.errors import LateEventError, ScoringError
from mql.scoring import (
    Event,
    apply_event,
    fires,
    matching_rules,
    new_state,
    read,
    replay,
    score,
)

from ._support import day, ev, intent_model, model

NO_DECAY = "decay: {rate: 0}"


def total(rules: str, events: list[Event], groups: str = "[{id: web}]") -> float:
    m = intent_model(rules, groups=groups, extra=NO_DECAY)
    return score(m, {}, events, day(100)).score


@pytest.mark.parametrize(
    ("where", "properties", "fires_"),
    [
        ("{url: {glob: '*/services/*'}}", {"url": "https://f.example/services/tax"}, 1),
        ("{url: {glob: '*/services/*'}}", {"url": "https://f.example/blog"}, 0),
        ("{url: {regex: 'fee|pricing'}}", {"url": "/Pricing"}, 1),
        ("{asset: 'tax-guide-2025'}", {"asset": "Tax-Guide-2025"}, 1),
        ("{channel: {in: [linkedin, email]}}", {"channel": "LinkedIn"}, 1),
        ("{campaign: {contains: q3}}", {"campaign": "cpa-Q3-webinar"}, 1),
        ("{duration_min: {min: 30}}", {"duration_min": "45"}, 1),
        ("{duration_min: {min: 30}}", {"duration_min": 10}, 0),
        ("{url: {glob: '*'}, asset: x}", {"url": "/a"}, 0),
        ("{}", {}, 1),
    ],
)
def test_property_conditions(where: str, properties: dict[str, object], fires_: int):
    rules = (
        f"{{id: r, event: view, where: {where}, points: 10, group: web, repeat: every}}"
    )
    assert total(rules, [ev("e1", "view", 0, **properties)]) == 10 * fires_


@pytest.mark.parametrize(
    ("event_types", "event_type", "points"),
    [
        ("view", "view", 10),
        ("[webinar_attended, event_attended]", "event_attended", 10),
        ("webinar_registered", "webinar_attended", 0),
    ],
)
def test_event_types(event_types: str, event_type: str, points: float):
    rules = f"{{id: r, event: {event_types}, points: 10, group: web, repeat: every}}"
    assert total(rules, [ev("e1", event_type, 0)]) == points


@pytest.mark.parametrize(
    ("repeat", "assets", "expected"),
    [
        ("every", ["a", "a", "b"], 30),
        ("once", ["a", "a", "b"], 10),
        ("{once_per: asset}", ["a", "A ", "b", None, ""], 20),
        ("{min_count: 3}", ["a", "b"], 0),
        ("{min_count: 3}", ["a", "b", "c"], 10),
        ("{min_count: 3}", ["a", "b", "c", "d", "e", "f"], 10),
        ("{mode: min_count, count: 1}", ["a", "b"], 10),
    ],
)
def test_repeat_modes(repeat: str, assets: list[str | None], expected: float):
    rules = f"{{id: dl, event: download, points: 10, group: web, repeat: {repeat}}}"
    events = [
        ev(f"e{i}", "download", i, **({"asset": a} if a is not None else {}))
        for i, a in enumerate(assets)
    ]
    assert total(rules, events) == expected


@pytest.mark.parametrize(
    ("group", "points", "count", "expected"),
    [
        ("{id: web, cap: 15}", 5, 2, 10),
        ("{id: web, cap: 15}", 5, 3, 15),
        ("{id: web, cap: 15}", 5, 7, 15),
        ("{id: web, floor: -10}", -4, 2, -8),
        ("{id: web, floor: -10}", -4, 5, -10),
        ("{id: web, cap: 5, floor: -5}", 3, 1, 3),
    ],
)
def test_group_cap_and_floor(group: str, points: float, count: int, expected: float):
    rules = f"{{id: r, event: view, points: {points}, group: web, repeat: every}}"
    events = [ev(f"e{i}", "view", i) for i in range(count)]
    assert total(rules, events, groups=f"[{group}]") == expected


def test_cap_applies_to_the_net_value_when_read():
    """Order does not matter: +10 +10 -8 under a cap of 15 is 12 either way."""
    rules = """
    {id: plus, event: view, points: 10, group: web, repeat: every}
    {id: minus, event: careers, points: -8, group: web, repeat: every}
    """
    plus_first = [ev("a", "view", 0), ev("b", "view", 1), ev("c", "careers", 2)]
    minus_first = [ev("a", "careers", 0), ev("b", "view", 1), ev("c", "view", 2)]
    groups = "[{id: web, cap: 15}]"
    assert total(rules, plus_first, groups) == 12
    assert total(rules, minus_first, groups) == 12


def test_total_cap():
    m = intent_model(
        "{id: r, event: view, points: 40, group: web, repeat: every}",
        extra=f"{NO_DECAY}\ntotal_cap: 100\n"
        "fit: [{id: f, when: {t: x}, points: 30}]",
    )
    events = [ev(f"e{i}", "view", i) for i in range(3)]
    result = score(m, {"t": "x"}, events, day(5))
    assert result.score == 100
    assert result.intent == 120
    assert result.fit == 30


def test_negative_points_do_not_decay():
    m = intent_model(
        """
        {id: fees, event: view, points: 80, group: web, repeat: every}
        {id: careers, event: careers, points: -20, group: web, repeat: every}
        """
    )
    events = [ev("a", "view", 0), ev("b", "careers", 0)]
    quarter = score(m, {}, events, day(91.3125))
    assert quarter.score == pytest.approx(60.0 - 20.0, rel=1e-12)
    later = score(m, {}, events, day(100 * 365))
    assert later.score == pytest.approx(-20.0, abs=1e-9)


def test_an_unmatched_event_changes_nothing_even_when_late():
    m = intent_model("{id: r, event: view, points: 10, group: web, repeat: every}")
    state = replay(m, {}, [ev("a", "view", 10)])
    assert apply_event(m, state, ev("old", "newsletter_open", 1)) == state
    assert matching_rules(m, ev("x", "newsletter_open", 1)) == []


def test_a_match_that_does_not_fire_is_still_activity():
    """A second 'once' match gives nothing but restarts the inactivity clock."""
    m = intent_model(
        """
        {id: fees, event: fees, points: 80, group: web, repeat: every}
        {id: hello, event: hello, points: 5, group: web, repeat: once}
        """
    )
    state = replay(m, {}, [ev("a", "fees", 0), ev("b", "hello", 0)])
    assert fires(m, state, ev("c", "hello", 91.3125)) == []
    later = apply_event(m, state, ev("c", "hello", 91.3125))
    assert later.last_activity == day(91.3125)
    assert read(m, later, day(91.3125)).score == pytest.approx(85 * 0.75, rel=1e-9)


def test_creating_a_lead_is_not_activity():
    m = intent_model("{id: r, event: view, points: 10, group: web, repeat: every}")
    state = new_state(m, {"title": "x"})
    assert state.last_activity is None
    assert read(m, state, day(0)).score == 0


def test_zero_is_a_value():
    m = intent_model("{id: r, event: view, points: 9, group: web, repeat: every}")
    state = new_state(m, {})
    assert read(m, state, day(0)).score == 0.0
    state = apply_event(m, state, ev("a", "view", 0))
    assert read(m, state, day(0)).score == 9.0


def test_duplicate_ids_count_once():
    m = intent_model("{id: r, event: view, points: 10, group: web, repeat: every}")
    first = ev("a", "view", 0)
    events = [first, ev("a", "view", 0), ev("a", "view", 3), ev("b", "view", 1)]
    assert score(m, {}, events, day(5)).intent == pytest.approx(
        score(m, {}, [first, ev("b", "view", 1)], day(5)).intent, rel=1e-15
    )
    state = replay(m, {}, [first])
    assert apply_event(m, state, first) == state


@pytest.mark.parametrize(
    ("late_id", "late_day"), [("z", 1.0), ("a", 2.0)], ids=["older", "same-instant"]
)
def test_late_event_raises_and_replay_gives_the_full_history(
    late_id: str, late_day: float
):
    m = intent_model("{id: r, event: view, points: 10, group: web, repeat: once}")
    state = replay(m, {}, [ev("b", "view", 2)])
    late = ev(late_id, "view", late_day)
    with pytest.raises(LateEventError, match=r"older than the lead's last activity"):
        apply_event(m, state, late)
    again = replay(m, {}, [ev("b", "view", 2), late])
    in_order = apply_event(
        m, apply_event(m, new_state(m, {}), late), ev("b", "view", 2)
    )
    assert again == in_order
    assert again.fired_once == frozenset({"r"})
    full = score(m, {}, [late, ev("b", "view", 2)], day(3))
    assert read(m, again, day(3)).score == pytest.approx(full.score, rel=1e-12)


def test_only_events_at_or_before_the_instant_count():
    m = intent_model(
        "{id: r, event: view, points: 10, group: web, repeat: every}", extra=NO_DECAY
    )
    events = [ev("a", "view", 0), ev("b", "view", 1), ev("c", "view", 2)]
    assert score(m, {}, events, day(1)).score == 20


def test_reading_before_the_last_activity_is_refused():
    m = intent_model("{id: r, event: view, points: 10, group: web, repeat: every}")
    state = replay(m, {}, [ev("a", "view", 5)])
    with pytest.raises(ScoringError, match=r"use score\(\) with the history"):
        read(m, state, day(4))


def test_several_rules_can_fire_for_one_event():
    m = model(
        """
        name: t
        threshold: 50
        decay: {rate: 0}
        groups: [{id: web}, {id: content}]
        intent:
          - {id: a, event: view, points: 3, group: web, repeat: every}
          - {id: b, event: view, where: {url: {glob: '*fees*'}}, points: 7,
             group: content, repeat: every}
        """
    )
    result = score(m, {}, [ev("e", "view", 0, url="/fees")], day(1))
    assert dict(result.groups) == {"web": 3, "content": 7}
