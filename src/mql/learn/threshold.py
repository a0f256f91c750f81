"""Threshold advice: which score to call an MQL, from capacity or a target.

Sales can take a number of MQLs per week or month; with the number of leads that
arrive in the same period this is the share of leads that may be MQLs. Or a team
wants a recall (the share of future converters that become MQLs) or a precision
(the share of MQLs that convert). The trade-off curve shows every choice.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from mql.errors import InputError

Array = np.ndarray[Any, Any]

logger = logging.getLogger(__name__)

#: The periods capacity and arrivals may be counted in.
PERIODS = ("week", "month")


@dataclass(frozen=True)
class Point:
    """One threshold on the trade-off curve."""

    threshold: float
    mql_share: float
    recall: float
    precision: float
    mqls: int


@dataclass(frozen=True)
class Goal:
    """What the threshold should achieve; at most one of its parts is used.

    ``capacity`` MQLs per period with ``arrivals`` leads per period; or a
    ``share`` of leads; or a ``recall`` or ``precision`` to reach.
    """

    capacity: float | None = None
    arrivals: float | None = None
    share: float | None = None
    recall: float | None = None
    precision: float | None = None
    period: str = "week"

    def __post_init__(self) -> None:
        for name, value in (("share", self.share), ("recall", self.recall)):
            _check_fraction(name, value)
        _check_fraction("precision", self.precision)
        for name, value in (("capacity", self.capacity), ("arrivals", self.arrivals)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(
                    f"--{name} {value:g}: give a number of leads per {self.period} "
                    "above 0"
                )
        if self.period not in PERIODS:
            raise InputError(
                f"--period {self.period!r}: choose week or month (the period "
                "--capacity and --arrivals are counted in)"
            )
        if self.capacity is not None and self.arrivals is None:
            raise InputError(
                f"--capacity {self.capacity:g} MQLs per {self.period} needs the "
                f"number of leads that arrive per {self.period}: give --arrivals"
            )
        if self.arrivals is not None and self.capacity is None:
            raise InputError(
                f"--arrivals {self.arrivals:g} goes with --capacity (the MQLs sales "
                f"can take per {self.period}); give both, or another goal"
            )

    @property
    def everyone(self) -> bool:
        """Whether the capacity is at least the arrivals: every lead an MQL."""
        return (
            self.capacity is not None
            and self.arrivals is not None
            and self.capacity >= self.arrivals
        )

    def target_share(self) -> float | None:
        """The share of leads that may be MQLs, from capacity or as given."""
        if self.capacity is None or self.arrivals is None:
            return self.share
        return min(1.0, self.capacity / self.arrivals)


def _check_fraction(name: str, value: float | None) -> None:
    """Refuse a share, recall or precision outside (0, 1]."""
    if value is not None and not 0 < value <= 1:
        raise InputError(
            f"--{name} {value:g}: give a {name} above 0 and at most 1 (0.3 for 30%)"
        )


@dataclass(frozen=True)
class Advice:
    """The recommended threshold, why, and what it does on the data it came from."""

    threshold: float
    reason: str
    point: Point
    curve: tuple[Point, ...]


def trade_off(y: Array, scores: Array) -> tuple[Point, ...]:
    """MQL share, recall and precision at every distinct score, highest first."""
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_y = scores[order], y[order]
    hits = np.cumsum(sorted_y)
    total = max(int(y.sum()), 1)
    # The last position of each distinct score: everyone at or above it is an MQL.
    ends = np.flatnonzero(np.r_[sorted_scores[1:] != sorted_scores[:-1], True])
    return tuple(
        Point(
            threshold=float(sorted_scores[end]),
            mql_share=float(end + 1) / len(y),
            recall=float(hits[end]) / total,
            precision=float(hits[end]) / float(end + 1),
            mqls=int(end + 1),
        )
        for end in ends
    )


def advise(y: Array, scores: Array, goal: Goal | None = None) -> Advice:
    """The threshold that meets a goal (default: the best F1)."""
    goal = goal or Goal()
    curve = trade_off(y, scores)
    share = goal.target_share()
    if share is not None:
        point, reason = _by_share(curve, share, goal)
    elif goal.recall is not None:
        point, reason = _by_recall(curve, goal.recall)
    elif goal.precision is not None:
        point, reason = _by_precision(curve, goal.precision)
    else:
        point = max(curve, key=_f1)
        reason = f"best F1 (precision and recall weighed alike): {_f1(point):.3f}"
    return Advice(point.threshold, reason, point, curve)


def _by_share(curve: tuple[Point, ...], share: float, goal: Goal) -> tuple[Point, str]:
    fitting = [p for p in curve if p.mql_share <= share]
    if not fitting:
        point = curve[0]
        return point, (
            f"even the top score alone makes {point.mql_share:.1%} of leads MQLs, "
            f"above the {share:.1%} asked"
        )
    point = fitting[-1]
    if goal.everyone:
        why = (
            f"WARNING: {goal.capacity:g} MQLs per {goal.period} is as many as the "
            f"{goal.arrivals:g} leads that arrive per {goal.period} or more: every "
            "lead would be an MQL"
        )
        logger.warning("%s", why)
    elif goal.capacity is not None:
        why = (
            f"{goal.capacity:g} MQLs per {goal.period} out of {goal.arrivals:g} "
            f"leads per {goal.period} is {share:.1%} of leads"
        )
    else:
        why = f"at most {share:.1%} of leads"
    return point, f"{why}; this threshold makes {point.mql_share:.1%} MQLs"


def _by_recall(curve: tuple[Point, ...], recall: float) -> tuple[Point, str]:
    point = next((p for p in curve if p.recall >= recall), curve[-1])
    return point, (
        f"the highest threshold that keeps recall at {recall:.0%} or more "
        f"(it reaches {point.recall:.1%})"
    )


def _by_precision(curve: tuple[Point, ...], precision: float) -> tuple[Point, str]:
    meeting = [p for p in curve if p.precision >= precision]
    if not meeting:
        point = max(curve, key=lambda p: p.precision)
        return point, (
            f"no threshold reaches precision {precision:.0%}; the best is "
            f"{point.precision:.1%}"
        )
    point = meeting[-1]
    return point, (
        f"the lowest threshold with precision {precision:.0%} or more "
        f"(it reaches {point.precision:.1%}, recall {point.recall:.1%})"
    )


def _f1(point: Point) -> float:
    total = point.precision + point.recall
    return 2 * point.precision * point.recall / total if total else 0.0
