"""Events refuse naive times; lead states survive a JSON round trip."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from mql.errors import InputError
from mql.scoring import Event, LeadState, new_state, read, replay

from ._support import day, ev, intent_model

M = intent_model(
    """
    {id: fees, event: view, points: 30, group: web, repeat: every}
    {id: guide, event: download, points: 10, group: web, repeat: {once_per: asset}}
    {id: once, event: hello, points: 5, group: web, repeat: once}
    {id: loyal, event: click, points: 7, group: web, repeat: {min_count: 2}}
    {id: unsub, event: unsubscribe, points: -9, group: web, repeat: once}
    """
)


def test_naive_event_time_is_refused_with_a_fix():
    with pytest.raises(InputError, match=r"naive datetime .* give it a time zone"):
        Event("e1", "view", datetime(2025, 1, 1))


def test_naive_read_time_is_refused():
    state = new_state(M, {})
    with pytest.raises(InputError, match=r"read: at is a naive datetime"):
        read(M, state, datetime(2025, 1, 1))


@pytest.mark.parametrize("bad_id", ["", None, 7])
def test_event_needs_an_id(bad_id: object):
    with pytest.raises(InputError, match=r"event id must be non-empty text"):
        Event(bad_id, "view", day(0))  # type: ignore[arg-type]


def test_state_round_trips_through_json():
    events = [
        ev("a", "view", 0),
        ev("b", "download", 1, asset="Guide"),
        ev("c", "hello", 2),
        ev("d", "click", 3),
        ev("e", "unsubscribe", 4),
    ]
    state = replay(M, {"title": "x"}, events)
    text = json.dumps(state.to_json())
    back = LeadState.from_json(json.loads(text))
    assert back == state
    assert back.once_per == {"guide": frozenset({"guide"})}
    assert back.match_counts == {"loyal": 1}
    assert read(M, back, day(10)) == read(M, state, day(10))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"format": 99}, r"format 99 is not 1; replay"),
        ({"format": 1}, r"lead state is malformed \(KeyError: 'fit'\)"),
    ],
)
def test_bad_state_json_is_refused(data: dict[str, object], message: str):
    with pytest.raises(InputError, match=message):
        LeadState.from_json(data)
