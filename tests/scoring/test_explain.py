"""The explanation lists every contribution and adds up to the score."""

from __future__ import annotations

import json

import pytest

from mql.scoring import explain

from ._support import QUARTER_DAYS, day, ev, model

M = model(
    """
    name: x
    threshold: 50
    total_cap: 100
    groups: [{id: web, floor: -10}, {id: email, cap: 10}]
    fit:
      - {id: cfo, when: {title: CFO}, points: 30}
    intent:
      - {id: fees, event: view, where: {url: {glob: '*fees*'}}, points: 80,
         group: web, repeat: every}
      - {id: careers, event: view, where: {url: {glob: '*careers*'}}, points: -20,
         group: web, repeat: every}
      - {id: click, event: click, points: 4, group: email, repeat: every}
    disqualifiers:
      - {id: rival, when: {email_domain: rival.example}, reason: competitor}
    """
)


def test_entries_by_hand():
    events = [
        ev("a", "view", 0, url="/fees"),
        ev("b", "click", 0),
        ev("c", "click", 0),
        ev("d", "click", 0),
        ev("e", "view", 0, url="/careers"),
        ev("f", "view", 0, url="/about"),
    ]
    result = explain(M, {"title": "CFO"}, events, day(QUARTER_DAYS))
    rows = [
        (e.kind, e.rule, e.event_id, e.group, e.points, e.value) for e in result.entries
    ]
    assert rows == [
        ("fit", "cfo", None, None, 30.0, 30.0),
        ("intent", "fees", "a", "web", 80.0, 60.0),
        ("intent", "careers", "e", "web", -20.0, -20.0),
        ("intent", "click", "b", "email", 4.0, 3.0),
        ("intent", "click", "c", "email", 4.0, 3.0),
        ("intent", "click", "d", "email", 4.0, 3.0),
    ]
    assert result.total == 79.0
    assert result.score.intent == 49.0


def test_cap_floor_and_disqualifier_entries():
    """Email 5 x 4 = 20 under cap 10; web 2 x 80 - 10 x 20 = -40 over floor -10."""
    events = [ev(f"c{i}", "click", 0) for i in range(5)]
    events += [ev("f1", "view", 0, url="/fees"), ev("f2", "view", 0, url="/fees")]
    events += [ev(f"k{i}", "view", 0, url="/careers") for i in range(10)]
    attributes = {"title": "CFO", "email_domain": "rival.example"}
    result = explain(M, attributes, events, day(0))
    adjustments = [
        (e.kind, e.group, e.value) for e in result.entries if e.kind != "intent"
    ]
    assert adjustments == [
        ("fit", None, 30.0),
        ("floor", "web", 30.0),
        ("cap", "email", -10.0),
        ("disqualifier", None, 0.0),
    ]
    assert dict(result.score.groups) == {"web": -10.0, "email": 10.0}
    assert result.total == 30.0
    assert result.score.disqualified_reason == "competitor"
    assert result.score.mql is False


@pytest.mark.parametrize(
    ("careers", "web", "floor_entries"),
    [(6, -10.0, [30.0]), (5, -10.0, [10.0]), (4, 0.0, []), (3, 20.0, [])],
)
def test_floor_entry(careers: int, web: float, floor_entries: list[float]):
    events = [ev("f", "view", 0, url="/fees")]
    events += [ev(f"k{i}", "view", 0, url="/careers") for i in range(careers)]
    result = explain(M, {}, events, day(0))
    assert result.score.groups["web"] == web
    assert [e.value for e in result.entries if e.kind == "floor"] == floor_entries


def test_total_cap_entry():
    events = [ev(f"f{i}", "view", 0, url="/fees") for i in range(2)]
    result = explain(M, {"title": "CFO"}, events, day(0))
    cap = [e for e in result.entries if e.kind == "total_cap"]
    assert [e.value for e in cap] == [-90.0]
    assert result.total == 100.0
    assert result.score.mql is True


def test_to_dict_is_plain_json():
    result = explain(M, {"title": "CFO"}, [ev("a", "view", 0, url="/fees")], day(1))
    text = json.dumps(result.to_dict())
    back = json.loads(text)
    assert back["total"] == result.total
    assert back["entries"][1]["event_at"] == day(0).isoformat()
    assert back["score"]["mql_until"] == result.score.mql_until.isoformat()
