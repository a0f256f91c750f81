"""Invariants on random histories (hypothesis): order, incremental, sums, the end."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mql.errors import LateEventError
from mql.model import Model
from mql.scoring import (
    Event,
    LeadState,
    apply_event,
    explain,
    new_state,
    read,
    replay,
    score,
)

from ._support import day, model

RULES = """
intent:
  - {id: fees, event: view, where: {url: {glob: '*/fees*'}}, points: 25,
     group: web, repeat: every}
  - {id: services, event: view, where: {url: {regex: '/services/'}}, points: 8,
     group: web, repeat: {once_per: url}}
  - {id: careers, event: view, where: {url: {contains: careers}}, points: -15,
     group: web, repeat: every}
  - {id: guide, event: download, points: 12, group: content,
     repeat: {once_per: asset}}
  - {id: click, event: click, points: 4, group: email, repeat: every}
  - {id: loyal, event: click, points: 10, group: email, repeat: {min_count: 3}}
  - {id: unsub, event: unsubscribe, points: -20, group: email, repeat: once}
  - {id: intro, event: referral, points: 45, group: referral, repeat: once}
fit:
  - {id: cfo, when: {title: CFO}, points: 20}
"""

MODELS = {
    "plain": model(
        "name: p\nthreshold: 40\n"
        "groups: [{id: web}, {id: content}, {id: email}, {id: referral}]\n" + RULES
    ),
    "clamped": model(
        "name: c\nthreshold: 45\ntotal_cap: 110\n"
        "groups: [{id: web, cap: 60, floor: -10}, {id: content, cap: 30},\n"
        "  {id: email, cap: 15, floor: -5}, {id: referral}]\n" + RULES
    ),
    "grace": model(
        "name: g\nthreshold: 40\ndecay: {grace_days: 14}\n"
        "groups: [{id: web, cap: 50}, {id: content},\n"
        "  {id: email, cap: 12, decay: {rate: 0.5, period_days: 30, grace_days: 3}},\n"
        "  {id: referral, decay: {rate: 0.1, period_days: 365.25}}]\n" + RULES
    ),
}

URLS = ["/fees", "/fees/audit", "/services/tax", "/services/audit", "/careers", "/"]
ASSETS = ["tax-guide", "m-and-a-checklist", ""]
TYPES = ["view", "download", "click", "unsubscribe", "referral", "open"]


@st.composite
def events(draw: st.DrawFn) -> list[Event]:
    """Random events over two years, at whole seconds, some at the same instant."""
    count = draw(st.integers(min_value=0, max_value=25))
    out = []
    for i in range(count):
        kind = draw(st.sampled_from(TYPES))
        second = draw(st.integers(min_value=0, max_value=2 * 365 * 86_400))
        props = {
            "url": draw(st.sampled_from(URLS)),
            "asset": draw(st.sampled_from(ASSETS)),
        }
        out.append(Event(f"e{i:02d}", kind, day(0) + timedelta(seconds=second), props))
    if out and draw(st.booleans()):
        twin = draw(st.sampled_from(out))
        out.append(Event(twin.id, twin.type, twin.at, twin.properties))
    return out


def attributes(cfo: bool) -> dict[str, str]:
    return {"title": "CFO" if cfo else "Analyst"}


def read_at(history: list[Event], extra_seconds: int):
    last = max((e.at for e in history), default=day(0))
    return last + timedelta(seconds=extra_seconds)


COMMON = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
EXTRA = st.integers(min_value=0, max_value=400 * 86_400)


@pytest.mark.parametrize("name", sorted(MODELS))
@COMMON
@given(history=events(), extra=EXTRA, cfo=st.booleans(), seed=st.integers(0, 99))
def test_any_order_gives_the_same_score(
    name: str, history: list[Event], extra: int, cfo: bool, seed: int
):
    m = MODELS[name]
    at = read_at(history, extra)
    shuffled = list(history)
    random.Random(seed).shuffle(shuffled)
    assert score(m, attributes(cfo), shuffled, at) == score(
        m, attributes(cfo), history, at
    )
    assert replay(m, attributes(cfo), shuffled) == replay(m, attributes(cfo), history)


@pytest.mark.parametrize("name", sorted(MODELS))
@COMMON
@given(history=events(), extra=EXTRA, cfo=st.booleans())
def test_incremental_equals_full_recomputation(
    name: str, history: list[Event], extra: int, cfo: bool
):
    m = MODELS[name]
    at = read_at(history, extra)
    state = new_state(m, attributes(cfo))
    arrived: list[Event] = []
    for event in history:  # arrival order; a late event makes the store replay
        arrived.append(event)
        try:
            state = apply_event(m, state, event)
        except LateEventError:
            state = replay(m, attributes(cfo), arrived)
    incremental = read(m, state, at)
    full = score(m, attributes(cfo), history, at)
    assert incremental.score == pytest.approx(full.score, rel=1e-12, abs=1e-9)
    for group, value in full.groups.items():
        assert incremental.groups[group] == pytest.approx(value, rel=1e-12, abs=1e-9)
    assert incremental.mql == full.mql or math.isclose(
        full.score, m.threshold, rel_tol=1e-12
    )
    assert LeadState.from_json(state.to_json()) == state


@pytest.mark.parametrize("name", sorted(MODELS))
@COMMON
@given(history=events(), extra=EXTRA, cfo=st.booleans())
def test_in_order_application_equals_replay_exactly(
    name: str, history: list[Event], extra: int, cfo: bool
):
    m = MODELS[name]
    ordered = sorted({e.id: e for e in reversed(history)}.values(), key=lambda e: e.key)
    state = new_state(m, attributes(cfo))
    for event in ordered:
        state = apply_event(m, state, event)
    assert state == replay(m, attributes(cfo), history)


@pytest.mark.parametrize("name", sorted(MODELS))
@COMMON
@given(history=events(), extra=EXTRA, cfo=st.booleans())
def test_explanation_adds_up_to_the_score(
    name: str, history: list[Event], extra: int, cfo: bool
):
    m = MODELS[name]
    result = explain(m, attributes(cfo), history, read_at(history, extra))
    assert math.fsum(e.value for e in result.entries) == result.total
    assert result.score.score == result.total
    for entry in result.entries:
        assert entry.value == pytest.approx(
            entry.points * entry.factor
        ) or entry.kind in (
            "cap",
            "floor",
            "total_cap",
        )


@pytest.mark.parametrize("name", sorted(MODELS))
@COMMON
@given(
    history=events(),
    first=EXTRA,
    more=st.integers(min_value=1, max_value=400 * 86_400),
    cfo=st.booleans(),
)
def test_score_never_rises_between_events(
    name: str, history: list[Event], first: int, more: int, cfo: bool
):
    m = MODELS[name]
    state = replay(m, attributes(cfo), history)
    earlier = read_at(history, first)
    later = earlier + timedelta(seconds=more)
    assert read(m, state, later).score <= read(m, state, earlier).score


@pytest.mark.parametrize("name", sorted(MODELS))
@COMMON
@given(history=events(), extra=EXTRA, cfo=st.booleans())
def test_mql_until_is_the_first_instant_below_the_threshold(
    name: str, history: list[Event], extra: int, cfo: bool
):
    m = MODELS[name]
    state = replay(m, attributes(cfo), history)
    at = read_at(history, extra)
    now = read(m, state, at)
    if not now.mql:
        assert now.mql_until is None
        return
    if now.mql_until is None:
        far = at + timedelta(days=365 * 50)
        assert read(m, state, far).score >= m.threshold
        return
    second = timedelta(seconds=1)
    before = max(at, now.mql_until - second)
    assert read(m, state, before).score >= m.threshold
    assert read(m, state, now.mql_until + second).score < m.threshold


def test_models_are_valid_for_the_properties():
    assert all(isinstance(m, Model) for m in MODELS.values())
