"""Bins for each feature: ranges for numbers, groups for categories, one for missing.

The bins come from optbinning's optimal binning (a constrained search over cut
points that keeps each bin large enough and the event rates apart), so sparse
categories end up grouped with categories of a similar conversion rate. A bin
is matched exactly as the scoring engine matches the rule written for it.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any, Literal

import numpy as np
from optbinning import OptimalBinning

from mql.scoring import as_number, as_text, is_missing

logger = logging.getLogger(__name__)

#: Smallest share of the leads a bin may hold (optbinning's min_prebin_size default).
MIN_BIN_SHARE = 0.05
#: Pre-bins searched for numeric cut points (optbinning's default).
MAX_PREBINS = 20
#: Seconds the optimiser may spend on one feature; far above what these sizes need.
SOLVER_SECONDS = 30
#: Added to event and non-event counts so that a pure bin has a finite WoE.
WOE_SMOOTHING = 0.5
#: Most decimals tried for a cut point; beyond, the solver's own cut is kept.
MAX_CUT_DECIMALS = 17

Kind = Literal["range", "categories", "missing"]
Key = float | str


@dataclass(frozen=True)
class Bin:
    """One bin of a feature and what the training leads in it did.

    ``woe`` is ln(share of converters / share of non-converters): above 0 the bin
    converts better than the average lead, below 0 worse.
    """

    kind: Kind
    count: int
    events: int
    woe: float
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        """The share of the bin's leads that converted."""
        return self.events / self.count if self.count else 0.0

    def holds(self, value: Any) -> bool:
        """Whether the rule for this bin holds on a value (engine semantics)."""
        value = none_if_nan(value)
        if self.kind == "missing":
            return is_missing(value)
        if is_missing(value):
            return False
        if self.kind == "range":
            number = as_number(value)
            if number is None:
                return False
            low = -math.inf if self.low is None else self.low
            high = math.inf if self.high is None else self.high
            return low <= number <= high
        return _key(value) in {_key(c) for c in self.categories}


@dataclass(frozen=True)
class FeatureBins:
    """The bins of one feature, and its information value (IV)."""

    field: str
    numeric: bool
    bins: tuple[Bin, ...]
    iv: float

    def assign(self, values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.int_]]:
        """The index of the first bin each value falls in, -1 for none."""
        lookup = {
            _key(c): i
            for i, b in enumerate(self.bins)
            if b.kind == "categories"
            for c in b.categories
        }
        seen: dict[Any, int] = {}
        out = np.empty(len(values), dtype=np.int_)
        for row, value in enumerate(values):
            key = _value_key(value)
            if key is _UNHASHABLE:
                out[row] = self._index(value, lookup)
                continue
            if key not in seen:
                seen[key] = self._index(value, lookup)
            out[row] = seen[key]
        return out

    def _index(self, value: Any, lookup: dict[Key, int]) -> int:
        value = none_if_nan(value)
        if is_missing(value):
            return next((i for i, b in enumerate(self.bins) if b.kind == "missing"), -1)
        if not self.numeric:
            return lookup.get(_key(value), -1)
        return next((i for i, b in enumerate(self.bins) if b.holds(value)), -1)


def fit_bins(
    name: str, values: Sequence[Any], outcome: np.ndarray[Any, Any], numeric: bool
) -> FeatureBins:
    """Optimal bins of one feature against the outcome."""
    if numeric:
        clean = np.array([_number(v) for v in values], dtype=float)
    else:
        clean_text = _canonical(values)
        clean = np.array(clean_text, dtype=object)
    binning = OptimalBinning(
        name=name,
        dtype="numerical" if numeric else "categorical",
        solver="cp",
        max_n_prebins=MAX_PREBINS,
        min_prebin_size=MIN_BIN_SHARE,
        time_limit=SOLVER_SECONDS,
    )
    binning.fit(clean, outcome)
    missing = np.array([v is None or v != v for v in clean], dtype=bool)
    splits = short_cuts(binning.splits, clean) if numeric else binning.splits
    members = _members(splits, clean, numeric)
    bins = _count(members, missing, outcome, numeric, splits)
    iv = _information_value(bins, outcome)
    logger.debug("binned %s: %d bins, IV %.3f", name, len(bins), iv)
    return FeatureBins(field=name, numeric=numeric, bins=bins, iv=iv)


def short_cuts(splits: Any, values: np.ndarray[Any, Any]) -> list[float]:
    """Each cut point as the shortest decimal strictly between the same two
    neighbouring values seen as the solver's cut (the nearest to it among the
    shortest), so that no value seen changes bin.

    The solver's cuts are midpoints computed in single precision
    (``1.225000023841858``); a model file reads better with ``1.2``.
    """
    seen = np.unique(values[~np.isnan(values)])
    out = []
    for cut in (float(s) for s in splits):
        below = seen[seen < cut]
        above = seen[seen > cut]
        if not len(below) or not len(above) or cut in seen:
            out.append(cut)
            continue
        out.append(shortest_between(float(below[-1]), float(above[0]), cut))
    return out


def shortest_between(low: float, high: float, near: float) -> float:
    """The decimal with the fewest decimals strictly between ``low`` and ``high``,
    the nearest to ``near`` among them; ``near`` when none is found.

    >>> shortest_between(1.2, 1.25, 1.225000023841858)
    1.23
    >>> shortest_between(3.0, 5.0, 4.0)
    4.0
    """
    exact_low, exact_high = Decimal(low), Decimal(high)
    for digits in range(MAX_CUT_DECIMALS + 1):
        first = exact_low.scaleb(digits).to_integral_value(ROUND_FLOOR) + 1
        last = exact_high.scaleb(digits).to_integral_value(ROUND_CEILING) - 1
        if first > last:
            continue
        target = Decimal(near).scaleb(digits).to_integral_value(ROUND_HALF_EVEN)
        value = float(min(max(target, first), last).scaleb(-digits))
        if low < value < high:
            return value
    return near


def _members(
    splits: Any, clean: np.ndarray[Any, Any], numeric: bool
) -> np.ndarray[Any, np.dtype[np.int_]]:
    """Bin index (among the non-missing bins) of each value, -1 when missing."""
    if numeric:
        cuts = np.asarray(splits, dtype=float)
        index = np.searchsorted(cuts, clean, side="right")
        return np.where(np.isnan(clean), -1, index).astype(np.int_)
    lookup = {str(c): i for i, group in enumerate(splits) for c in group}
    return np.array(
        [-1 if v is None else lookup.get(str(v), -2) for v in clean], dtype=np.int_
    )


def _count(
    members: np.ndarray[Any, np.dtype[np.int_]],
    missing: np.ndarray[Any, np.dtype[np.bool_]],
    outcome: np.ndarray[Any, Any],
    numeric: bool,
    splits: Any,
) -> tuple[Bin, ...]:
    total_events = int(outcome.sum())
    total_non = len(outcome) - total_events
    shapes = _shapes(numeric, splits, members)
    bins = []
    for index, (kind, low, high, cats) in enumerate(shapes):
        rows = missing if kind == "missing" else members == index
        count, events = int(rows.sum()), int(outcome[rows].sum())
        if count == 0:
            continue
        woe = _woe(events, count - events, total_events, total_non)
        bins.append(Bin(kind, count, events, woe, low, high, cats))
    return tuple(bins)


def _shapes(
    numeric: bool, splits: Any, members: np.ndarray[Any, Any]
) -> list[tuple[Kind, float | None, float | None, tuple[str, ...]]]:
    shapes: list[tuple[Kind, float | None, float | None, tuple[str, ...]]] = []
    if numeric:
        cuts = [float(s) for s in splits]
        edges: list[float | None] = [None, *cuts, None]
        for low, high in itertools.pairwise(edges):
            shapes.append(("range", low, high, ()))
    else:
        for group in splits:
            shapes.append(("categories", None, None, tuple(str(c) for c in group)))
    shapes.append(("missing", None, None, ()))
    return shapes


def _woe(events: int, non: int, total_events: int, total_non: int) -> float:
    share_events = (events + WOE_SMOOTHING) / (total_events + WOE_SMOOTHING)
    share_non = (non + WOE_SMOOTHING) / (total_non + WOE_SMOOTHING)
    return math.log(share_events / share_non)


def _information_value(bins: Sequence[Bin], outcome: np.ndarray[Any, Any]) -> float:
    total_events = int(outcome.sum())
    total_non = len(outcome) - total_events
    iv = 0.0
    for b in bins:
        share_events = b.events / total_events
        share_non = (b.count - b.events) / total_non
        iv += (share_events - share_non) * b.woe
    return iv


#: The key of a value that cannot be a dictionary key (assigned without a cache).
_UNHASHABLE = object()


def _value_key(value: Any) -> Any:
    """A cache key telling apart values the rules may tell apart (1 and "1")."""
    value = none_if_nan(value)
    try:
        hash(value)
    except TypeError:
        return _UNHASHABLE
    return (type(value).__name__, value)


def none_if_nan(value: Any) -> Any:
    """None for a float NaN (how pandas marks a missing number), else the value."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _number(value: Any) -> float:
    value = none_if_nan(value)
    if is_missing(value):
        return math.nan
    number = as_number(value)
    return math.nan if number is None else number


def _canonical(values: Sequence[Any]) -> list[str | None]:
    """Values that the engine would take as equal mapped to one spelling.

    The engine compares text without case and numbers as numbers, so "Google"
    and "google" are one category; the most frequent spelling names it.
    """
    values = [none_if_nan(v) for v in values]
    spellings: dict[Key, Counter[str]] = {}
    for value in values:
        if not is_missing(value):
            text = str(value).strip()
            spellings.setdefault(_key(text), Counter())[text] += 1
    chosen = {key: counts.most_common(1)[0][0] for key, counts in spellings.items()}
    return [None if is_missing(v) else chosen[_key(str(v).strip())] for v in values]


def _key(value: Any) -> Key:
    number = as_number(value)
    return number if number is not None else as_text(value)
