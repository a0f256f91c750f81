"""Backtests: MQL counts per period and how MQLs met conversions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mql.batch.backtest import OutcomeRow, backtest, period_ends
from mql.batch.layout import (
    event_properties,
    events_table,
    lead_attributes,
    leads_table,
)
from mql.errors import InputError
from mql.model import Model

from ._support import day, model

CURRENT = model(
    """
    name: current
    threshold: 50
    groups: [{id: web}]
    intent: [{id: fees, event: page_view, points: 60, group: web, repeat: every}]
    """
)
STRICT = model(
    """
    name: strict
    threshold: 100
    groups: [{id: web}]
    intent: [{id: fees, event: page_view, points: 60, group: web, repeat: every}]
    """
)


def _data(m: Model) -> tuple[object, object]:
    rows = [
        ("A", "a1", "page_view", day(1), {}),
        ("B", "b1", "page_view", day(8), {}),
        ("B", "b2", "page_view", day(9), {}),
        ("C", "c1", "email_open", day(2), {}),
    ]
    events = events_table(rows, event_properties(m))
    leads = leads_table(
        [("A", {}), ("B", {}), ("C", {})],
        lead_attributes(m),
        converted_at={"A": day(20), "C": day(5)},
    )
    return events, leads


def test_weekly_counts_and_outcomes_per_model() -> None:
    events, leads = _data(CURRENT)
    ends = period_ends(day(0), day(21), timedelta(weeks=1))
    result = backtest({"current": CURRENT, "strict": STRICT}, events, leads, ends)  # type: ignore[arg-type]

    counts = [(p.model, p.period_end, p.mqls, p.gained, p.lost) for p in result.periods]
    assert counts == [
        ("current", day(0), 0, 0, 0),
        ("current", day(7), 1, 1, 0),
        ("current", day(14), 2, 1, 0),
        ("current", day(21), 2, 0, 0),
        ("strict", day(0), 0, 0, 0),
        ("strict", day(7), 0, 0, 0),
        ("strict", day(14), 1, 1, 0),
        ("strict", day(21), 1, 0, 0),
    ]
    assert result.outcomes == [
        OutcomeRow("current", 2, 2, 1, 13.0, 13.0, 2, 1),
        OutcomeRow("strict", 2, 2, 0, None, None, 1, 1),
    ]


def test_conversions_before_the_first_period_end_are_told_apart() -> None:
    events, leads = _data(CURRENT)
    # C converted on day 5, before the first period end: no model could be early.
    ends = period_ends(day(7), day(21), timedelta(weeks=1))
    (outcome,) = backtest({"current": CURRENT}, events, leads, ends).outcomes  # type: ignore[arg-type]
    assert (outcome.converted, outcome.converted_from_start) == (2, 1)
    assert outcome.converted_were_mql == 1


def test_period_ends_refuse_a_backwards_range() -> None:
    with pytest.raises(InputError, match="a backtest needs --from before --to"):
        period_ends(day(10), day(0), timedelta(weeks=1))


def test_period_ends_refuse_too_many_periods() -> None:
    with pytest.raises(InputError, match="choose a longer --every"):
        period_ends(day(0), day(3650), timedelta(hours=1))
