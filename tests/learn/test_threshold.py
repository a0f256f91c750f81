"""Threshold advice from capacity, a share, a recall or a precision."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mql.errors import InputError
from mql.learn import Goal, advise, trade_off

# Ten leads, scores 10 (best) to 1; converters at scores 10, 9, 7, 4.
SCORES = np.arange(10, 0, -1).astype(float)
OUTCOME = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])


def test_the_curve_has_one_point_per_distinct_score() -> None:
    curve = trade_off(OUTCOME, SCORES)
    assert [p.threshold for p in curve] == list(SCORES)
    third = curve[2]
    assert (third.mqls, third.recall, third.precision) == (3, 0.5, pytest.approx(2 / 3))


def test_ties_move_together() -> None:
    curve = trade_off(np.array([1, 0, 1, 0]), np.array([5.0, 5.0, 3.0, 3.0]))
    assert [(p.threshold, p.mqls) for p in curve] == [(5.0, 2), (3.0, 4)]


def test_capacity_and_arrivals_give_the_share_of_leads() -> None:
    advice = advise(OUTCOME, SCORES, Goal(capacity=30, arrivals=100, period="month"))
    assert advice.threshold == 8.0
    assert advice.point.mql_share == 0.3
    assert (
        "30 MQLs per month out of 100 leads per month is 30.0% of leads"
        in advice.reason
    )


@pytest.mark.parametrize(
    ("goal", "threshold"),
    [
        (Goal(share=0.25), 9.0),
        (Goal(recall=0.75), 7.0),
        (Goal(recall=1.0), 4.0),
        (Goal(precision=0.7), 7.0),
        (Goal(precision=1.0), 9.0),
    ],
)
def test_goals_pick_the_threshold(goal: Goal, threshold: float) -> None:
    assert advise(OUTCOME, SCORES, goal).threshold == threshold


def test_without_a_goal_the_best_f1_is_advised() -> None:
    advice = advise(OUTCOME, SCORES)
    assert advice.threshold == 7.0
    assert advice.reason.startswith("best F1")


def test_capacity_without_arrivals_says_what_to_add() -> None:
    with pytest.raises(
        InputError,
        match=r"--capacity 30 MQLs per week needs the number of leads that arrive "
        r"per week: give --arrivals",
    ):
        Goal(capacity=30)


@pytest.mark.parametrize(
    ("goal", "message"),
    [
        ({"share": 1.5}, r"--share 1.5: give a share above 0 and at most 1"),
        ({"share": -0.1}, r"--share -0.1: give a share above 0 and at most 1"),
        ({"share": 0.0}, r"--share 0: give a share above 0 and at most 1"),
        ({"recall": 2.0}, r"--recall 2: give a recall above 0 and at most 1"),
        ({"precision": -1.0}, r"--precision -1: give a precision above 0"),
        ({"share": float("nan")}, r"--share nan: give a share above 0"),
        ({"capacity": -5.0, "arrivals": 100.0}, r"--capacity -5: .* above 0"),
        ({"capacity": 5.0, "arrivals": 0.0}, r"--arrivals 0: .* above 0"),
        ({"arrivals": 100.0}, r"--arrivals 100 goes with --capacity"),
        ({"share": 0.3, "period": "day"}, r"--period 'day': choose week or month"),
    ],
)
def test_goals_out_of_range_are_refused(goal: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Goal(**goal)


def test_capacity_above_arrivals_warns_that_every_lead_is_an_mql() -> None:
    advice = advise(OUTCOME, SCORES, Goal(capacity=300, arrivals=250))
    assert advice.point.mql_share == 1.0
    assert advice.reason.startswith(
        "WARNING: 300 MQLs per week is as many as the 250 leads that arrive per "
        "week or more: every lead would be an MQL"
    )


def test_an_unreachable_precision_says_the_best() -> None:
    advice = advise(
        np.array([0, 1, 0, 1]), np.array([4.0, 3.0, 2.0, 1.0]), Goal(precision=0.9)
    )
    assert advice.reason.startswith("no threshold reaches precision 90%")
