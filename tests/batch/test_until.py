"""mql_until from the engine's state: the closed form (one decay for every group)
against the bracketed search it replaces, and the instant it gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mql.batch.compiler import group_columns
from mql.batch.until import Floats, _bracketed, _crossing, mql_until, score_after
from mql.model import Model

from ._support import model

AT = 1_750_000_000.0
DAY = 86_400.0


def _model(
    bounds: list[tuple[float | None, float | None]],
    threshold: float,
    grace: float,
    rates: list[float],
) -> Model:
    """Groups g0, g1, ... with these (floor, cap), each with one rule of its own."""
    groups, rules = [], []
    for i, (floor, cap) in enumerate(bounds):
        extra = "".join(
            f", {name}: {value}"
            for name, value in (("floor", floor), ("cap", cap))
            if value is not None
        )
        rate = rates[i % len(rates)]
        groups.append(f"{{id: g{i}{extra}, decay: {{rate: {rate}}}}}")
        rules.append(
            f"{{id: r{i}, event: e{i}, points: 10, group: g{i}, repeat: every}}"
        )
        rules.append(
            f"{{id: n{i}, event: x{i}, points: -5, group: g{i}, repeat: every}}"
        )
    text = (
        f"name: t\nthreshold: {threshold}\ndecay: {{grace_days: {grace}}}\n"
        f"groups: [{', '.join(groups)}]\nintent: [{', '.join(rules)}]\n"
    )
    return model(text)


# Written into YAML: short decimals.
bounds = st.tuples(
    st.one_of(st.none(), st.floats(-40, 0).map(lambda x: round(x, 3))),
    st.one_of(st.none(), st.floats(0, 80).map(lambda x: round(x, 3))),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Model, dict[str, Floats]]:
    n_groups = draw(st.integers(1, 4))
    m = _model(
        draw(st.lists(bounds, min_size=n_groups, max_size=n_groups)),
        draw(st.floats(5, 120).map(lambda x: round(x, 3))),
        draw(st.sampled_from([0, 0, 7, 30.5])),
        [draw(st.sampled_from([0.25, 0.1, 0.5]))],
    )
    leads = draw(st.integers(1, 40))
    floats = st.floats(0, 150)
    state = {
        "fit": np.array(
            draw(st.lists(st.floats(-20, 60), min_size=leads, max_size=leads))
        ),
        "last_ts": AT
        - DAY
        * np.array(draw(st.lists(st.floats(0, 400), min_size=leads, max_size=leads))),
    }
    for group in m.groups:
        p_col, n_col, _ = group_columns(group.id)
        state[p_col] = np.array(draw(st.lists(floats, min_size=leads, max_size=leads)))
        state[n_col] = -np.array(
            draw(st.lists(st.floats(0, 60), min_size=leads, max_size=leads))
        )
    return m, state


@settings(max_examples=300, deadline=None)
@given(cases())
def test_the_closed_form_finds_the_instant_the_search_finds(
    case: tuple[Model, dict[str, Floats]],
) -> None:
    m, state = case
    now = np.full(len(state["fit"]), AT)
    mql = score_after(m, state, AT, now) >= m.threshold
    until = mql_until(m, state, mql, AT)
    todo = np.flatnonzero(~np.isnan(until))
    if todo.size == 0:
        return
    sub = {name: values[todo] for name, values in state.items()}
    searched = _bracketed(m, sub, now[todo])
    assert np.allclose(until[todo], searched, rtol=0, atol=1e-3)
    # The instant itself: at the threshold just before, below it just after.
    before = score_after(m, sub, now[todo], until[todo] - 1e-3)
    after = score_after(m, sub, now[todo], until[todo] + 1e-3)
    assert np.all(before >= m.threshold - 1e-9)
    assert np.all(after < m.threshold)


def test_groups_that_decay_differently_are_searched() -> None:
    m = _model([(None, None), (None, 50)], 40, 0, [0.25, 0.5])
    state = {
        "fit": np.array([10.0]),
        "last_ts": np.array([AT]),
        "p_g0": np.array([30.0]),
        "n_g0": np.array([0.0]),
        "p_g1": np.array([60.0]),
        "n_g1": np.array([-5.0]),
    }
    assert _crossing(m, state, np.array([AT])) is None
    until = mql_until(m, state, np.array([True]), AT)
    at_until = score_after(m, state, np.array([AT]), until + 1e-3)
    assert at_until[0] < 40 <= score_after(m, state, np.array([AT]), until - 1e-3)[0]


@pytest.mark.parametrize("quarters", [1, 2, 3])
def test_a_single_group_lapses_when_its_points_decay_to_the_threshold(
    quarters: int,
) -> None:
    # 80 points at 25% a quarter: 60 after one quarter, 45 after two, 33.75 after three.
    threshold = 80 * 0.75**quarters
    m = _model([(None, None)], threshold, 0, [0.25])
    state = {
        "fit": np.array([0.0]),
        "last_ts": np.array([AT]),
        "p_g0": np.array([80.0]),
        "n_g0": np.array([0.0]),
    }
    until = mql_until(m, state, np.array([True]), AT)
    period = m.decay_of("g0").period_days * DAY
    assert until[0] == pytest.approx(AT + quarters * period, abs=1e-3)
