"""Threshold advice from capacity, a share, a recall or a precision."""

from __future__ import annotations

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
        InputError, match=r"needs the leads that arrive per week: give --arrivals"
    ):
        advise(OUTCOME, SCORES, Goal(capacity=30))


def test_an_unreachable_precision_says_the_best() -> None:
    advice = advise(
        np.array([0, 1, 0, 1]), np.array([4.0, 3.0, 2.0, 1.0]), Goal(precision=0.9)
    )
    assert advice.reason.startswith("no threshold reaches precision 90%")
