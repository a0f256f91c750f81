"""A points model fitted to outcomes: bins, then a regularised logistic regression.

Each feature is binned (:mod:`mql.learn.binning`); an L2-regularised logistic
regression on one 0/1 column per bin gives each bin a weight. A bin's points are
its weight (log-odds) times ``PDO / ln 2``, shifted so that the feature's lowest
bin earns 0: ``PDO`` points double the odds of converting. Where two fields
together say more than their sum (a pair of fields chosen by cross-validation on
the learning leads, :func:`choose_pairs`), each common pair of their bins gets a
column and points of its own, added to the two fields' points (0 for the pairs
of bins not kept). The score at which the odds are even (1:1) is ``even_score``:

    log-odds(score) = (score - even_score) * ln 2 / PDO
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from mql.errors import InputError
from mql.learn.binning import Bin, FeatureBins, fit_bins
from mql.learn.data import LeadData
from mql.model import Model
from mql.scoring import score as engine_score

logger = logging.getLogger(__name__)

#: Points that double the odds of converting (a common scorecard choice).
DEFAULT_PDO = 20.0
#: Inverse L2 strength of the regression when there are enough converters.
DEFAULT_C = 1.0
#: Fewer converters than this and the model is small-data: warned and shrunk harder.
FEW_POSITIVES = 100
#: Inverse L2 strength with few converters: the bins' weights shrink towards 0,
#: leaving the current model's (scaled) points where one is given.
SMALL_DATA_C = 0.05
#: Features below this information value add nothing usable (Siddiqi's 0.02).
MIN_IV = 0.02
#: The current model's standardised score is multiplied by this so that its
#: weight, and so its L2 penalty, is tiny: only the learned bins are shrunk.
UNPENALISED = 100.0
#: Iterations allowed to the regression's solver (lbfgs converges in far fewer).
MAX_ITERATIONS = 5000
#: The instant used to read attribute-only scores (fit does not depend on time).
READ_AT = datetime(2000, 1, 1, tzinfo=UTC)
#: Pairs of fields learned together at most (each adds rules on two fields).
MAX_PAIRS = 4
#: A pair of bins gets its own column when it holds at least this share of leads.
MIN_CELL_SHARE = 0.01
#: A pair of fields is kept when it raises the cross-validated ROC AUC this much.
MIN_PAIR_GAIN = 0.0005
#: Folds of the cross-validation inside the learning leads that chooses pairs.
PAIR_FOLDS = 5
#: Candidate pairs cross-validated at each step (the strongest by a score test).
PAIR_CANDIDATES = 3


@dataclass(frozen=True)
class Feature:
    """A feature in the points model: its bins, their weights and points.

    ``weights`` are the regression's log-odds per bin; ``raw_points`` the points
    before rounding (weights times PDO / ln 2, shifted so the lowest is 0)."""

    bins: FeatureBins
    weights: tuple[float, ...]
    raw_points: tuple[float, ...] = ()

    @property
    def field(self) -> str:
        """The model field the feature reads."""
        return self.bins.field

    @property
    def points(self) -> tuple[int, ...]:
        """Each bin's points, rounded to whole numbers."""
        return tuple(round(p) for p in self.raw_points)


@dataclass(frozen=True)
class Pair:
    """Two features learned together: points for common pairs of their bins.

    ``cells`` are (bin of the first, bin of the second) index pairs, each with
    its leads, converters, regression weight and points before rounding; a lead
    in no cell earns no points from the pair. The points add to the two
    features' own points, so they may be negative.
    """

    first: FeatureBins
    second: FeatureBins
    cells: tuple[tuple[int, int], ...]
    counts: tuple[int, ...]
    events: tuple[int, ...]
    weights: tuple[float, ...] = ()
    raw_points: tuple[float, ...] = ()

    @property
    def fields(self) -> tuple[str, str]:
        """The two model fields the pair reads."""
        return self.first.field, self.second.field

    @property
    def points(self) -> tuple[int, ...]:
        """Each cell's points, rounded to whole numbers."""
        return tuple(round(p) for p in self.raw_points)

    def columns(self, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
        """One 0/1 column per cell: whether both of its rule's conditions hold.

        The conditions are matched as the scoring engine matches them.
        """
        first = _holding(self.first, _values(frame, self.first.field))
        second = _holding(self.second, _values(frame, self.second.field))
        return np.column_stack(
            [first[:, i] & second[:, j] for i, j in self.cells]
        ).astype(float)


@dataclass(frozen=True)
class Scorecard:
    """A learned points model, before and after rounding."""

    features: tuple[Feature, ...]
    pdo: float
    even_score: float
    trained_on: int
    positives: int
    source: str
    current: Model | None = None
    current_scale: float = 0.0
    dropped: tuple[tuple[str, str], ...] = field(default=())
    missing_values: tuple[str, ...] = ()
    pairs: tuple[Pair, ...] = ()

    @property
    def factor(self) -> float:
        """Points per unit of log-odds: PDO / ln 2."""
        return self.pdo / math.log(2)

    def scores(self, data: pd.DataFrame, rounded: bool = True) -> np.ndarray[Any, Any]:
        """Each lead's score, matching rules as the scoring engine does."""
        total = np.zeros(len(data), dtype=float)
        for feature in self.features:
            own = feature.points if rounded else feature.raw_points
            if feature.field in data:
                values = list(data[feature.field])
            else:
                values = [None] * len(data)
            bins, points = self.rules(feature, own)
            total += _feature_points(bins, points, values)
        for pair in self.pairs:
            cell_points = np.array(pair.points if rounded else pair.raw_points)
            total += pair.columns(data) @ cell_points
        if self.current is not None:
            total += self._current_points(data, rounded)
        return total

    def rules(
        self, feature: Feature, points: Sequence[float]
    ) -> tuple[list[Bin], list[float]]:
        """A feature's bins and their points, plus one rule for the placeholders.

        A value that meant "missing" while learning (``Select``) may reach the
        engine as text: a rule for it gives the missing bin's points.
        """
        bins, out = list(feature.bins.bins), list(points)
        missing = [p for b, p in zip(bins, points, strict=True) if b.kind == "missing"]
        if missing and self.missing_values and not feature.bins.numeric:
            bins.append(placeholder_bin(self.missing_values))
            out.append(missing[0])
        return bins, out

    def probabilities(
        self, data: pd.DataFrame, rounded: bool = True
    ) -> np.ndarray[Any, Any]:
        """Each lead's probability of converting, from its score."""
        return self.probability(self.scores(data, rounded))

    def probability(self, scores: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The probability of converting that a score stands for."""
        logit = (np.asarray(scores, dtype=float) - self.even_score) / self.factor
        result: np.ndarray[Any, Any] = 1.0 / (1.0 + np.exp(-logit))
        return result

    def score_for(self, probability: float) -> float:
        """The score at which the probability of converting is ``probability``."""
        return self.even_score + self.factor * math.log(probability / (1 - probability))

    def scaled_current(self) -> Model | None:
        """The current model with its points scaled onto this model's scale."""
        if self.current is None:
            return None
        return scale_model(self.current, self.current_scale)

    def _current_points(
        self, data: pd.DataFrame, rounded: bool
    ) -> np.ndarray[Any, Any]:
        model = self.scaled_current() if rounded else None
        if model is None:
            assert self.current is not None
            raw = attribute_scores(self.current, data)
            return raw * self.current_scale
        return attribute_scores(model, data)


def learn_scorecard(
    data: LeadData,
    *,
    pdo: float = DEFAULT_PDO,
    c: float | None = None,
    current: Model | None = None,
    min_iv: float = MIN_IV,
) -> Scorecard:
    """Fit a points model to leads with a known outcome."""
    y = data.outcome
    few = data.positives < FEW_POSITIVES
    strength = c if c is not None else (SMALL_DATA_C if few else DEFAULT_C)
    dropped: list[tuple[str, str]] = []
    binned = _bin_all(data, min_iv, dropped)
    if not binned:
        raise InputError(
            f"{data.source}: no feature tells converters apart (every information "
            f"value is below {min_iv}); add features or lower --min-iv"
        )
    current_col = attribute_scores(current, data.frame) if current else None
    # The matrices are small: one BLAS thread fits them many times faster.
    with threadpool_limits(limits=1, user_api="blas"):
        pairs = () if few else choose_pairs(binned, data.frame, y, strength)
        features, fitted_pairs, a, b = _regress(
            binned, data.frame, y, strength, current_col, pairs
        )
    factor = pdo / math.log(2)
    scaled = [tuple(w * factor for w in f.weights) for f in features]
    shift = sum(min(points) for points in scaled)
    shifted = tuple(
        replace(f, raw_points=tuple(p - min(points) for p in points))
        for f, points in zip(features, scaled, strict=True)
    )
    card = Scorecard(
        features=shifted,
        pdo=pdo,
        even_score=-(factor * a + shift),
        trained_on=len(y),
        positives=int(y.sum()),
        source=data.source,
        current=current if b > 0 else None,
        current_scale=b * factor if b > 0 else 0.0,
        dropped=tuple(dropped),
        missing_values=data.missing_values,
        pairs=tuple(
            replace(p, raw_points=tuple(w * factor for w in p.weights))
            for p in fitted_pairs
        ),
    )
    logger.info(
        "learned %d features from %d leads (%d converted), even odds at %.1f",
        len(shifted),
        len(y),
        card.positives,
        card.even_score,
    )
    return card


def _bin_all(
    data: LeadData, min_iv: float, dropped: list[tuple[str, str]]
) -> list[FeatureBins]:
    binned = []
    for name in data.features:
        column = data.frame[name]
        numeric = pd.api.types.is_numeric_dtype(column)
        bins = fit_bins(name, list(column), data.outcome, numeric)
        if bins.iv < min_iv:
            dropped.append((name, f"information value {bins.iv:.3f} < {min_iv}"))
            continue
        binned.append(bins)
    return binned


def _regress(
    binned: list[FeatureBins],
    frame: pd.DataFrame,
    y: np.ndarray[Any, Any],
    strength: float,
    current: np.ndarray[Any, Any] | None,
    pairs: Sequence[Pair] = (),
) -> tuple[tuple[Feature, ...], tuple[Pair, ...], float, float]:
    """Fit the regression on one 0/1 column per bin: each bin its own weight.

    The L2 penalty pulls every bin's weight towards 0, the more so the fewer
    leads it holds; the current model's column is left practically unpenalised.
    Each pair of fields adds one column per kept pair of bins.
    """
    blocks = [_indicators(b, list(frame[b.field])) for b in binned]
    blocks += [p.columns(frame) for p in pairs]
    spread = float(np.std(current)) if current is not None else 0.0
    if current is not None and spread > 0:
        # Standardised, then scaled up: its weight stays tiny, and so its penalty.
        blocks.append((current / spread * UNPENALISED)[:, None])
    matrix = np.hstack(blocks)
    regression = LogisticRegression(C=strength, max_iter=MAX_ITERATIONS)
    regression.fit(matrix, y)
    weights = regression.coef_[0]
    features = []
    start = 0
    for bins in binned:
        own = weights[start : start + len(bins.bins)]
        start += len(bins.bins)
        features.append(Feature(bins, tuple(float(w) for w in own)))
    fitted = []
    for pair in pairs:
        own = weights[start : start + len(pair.cells)]
        start += len(pair.cells)
        fitted.append(replace(pair, weights=tuple(float(w) for w in own)))
    b_current = float(weights[-1]) * UNPENALISED / spread if spread > 0 else 0.0
    return (
        tuple(features),
        tuple(fitted),
        float(regression.intercept_[0]),
        b_current,
    )


def choose_pairs(
    binned: Sequence[FeatureBins],
    frame: pd.DataFrame,
    y: np.ndarray[Any, Any],
    strength: float,
) -> tuple[Pair, ...]:
    """Pairs of fields worth learning together, chosen on the learning leads only.

    Step by step, the regression so far is fitted; every pair of fields not yet
    chosen is ranked by a score test (how far its pairs of bins' converters are
    from what the fit expects); the strongest few are cross-validated on the
    learning leads, and the best is kept when it raises the ROC AUC by
    ``MIN_PAIR_GAIN`` or more. At most ``MAX_PAIRS`` are kept.
    """
    index = {b.field: b.assign(_values(frame, b.field)) for b in binned}
    base = np.hstack([_indicators(b, list(frame[b.field])) for b in binned])
    folds = list(
        StratifiedKFold(PAIR_FOLDS, shuffle=True, random_state=0).split(base, y)
    )
    candidates = [
        p
        for a, b in itertools.combinations(binned, 2)
        if (p := _pair(a, b, index[a.field], index[b.field], y)) is not None
    ]
    columns = {
        id(p): _cell_columns(p, index[p.first.field], index[p.second.field])
        for p in candidates
    }
    chosen: list[Pair] = []
    best = _cv_auc(base, y, strength, folds)
    while len(chosen) < MAX_PAIRS and candidates:
        matrix = np.hstack([base, *(columns[id(p)] for p in chosen)])
        fit = _quick_fit(strength).fit(matrix, y)
        expected = fit.predict_proba(matrix)[:, 1]
        ranked = sorted(
            candidates,
            key=lambda p: _score_test(columns[id(p)], y, expected),
            reverse=True,
        )[:PAIR_CANDIDATES]
        tried = [
            (_cv_auc(np.hstack([matrix, columns[id(p)]]), y, strength, folds), p)
            for p in ranked
        ]
        auc, pair = max(tried, key=lambda t: t[0])
        if auc < best + MIN_PAIR_GAIN:
            break
        logger.debug("pair %s x %s: cross-validated ROC AUC %.4f", *pair.fields, auc)
        chosen.append(pair)
        candidates.remove(pair)
        best = auc
    return tuple(chosen)


def _pair(
    first: FeatureBins,
    second: FeatureBins,
    a: np.ndarray[Any, Any],
    b: np.ndarray[Any, Any],
    y: np.ndarray[Any, Any],
) -> Pair | None:
    """The pair of two features with its common pairs of (non-missing) bins.

    ``a`` and ``b`` are each lead's bin of the first and of the second feature.
    """
    present_a = [i for i, x in enumerate(first.bins) if x.kind != "missing"]
    present_b = [j for j, x in enumerate(second.bins) if x.kind != "missing"]
    cells, counts, events = [], [], []
    for i, j in itertools.product(present_a, present_b):
        rows = (a == i) & (b == j)
        count = int(rows.sum())
        if count >= MIN_CELL_SHARE * len(y):
            cells.append((i, j))
            counts.append(count)
            events.append(int(y[rows].sum()))
    if not cells:
        return None
    return Pair(first, second, tuple(cells), tuple(counts), tuple(events))


def _score_test(
    columns: np.ndarray[Any, Any], y: np.ndarray[Any, Any], expected: Any
) -> float:
    """Rao's score statistic of added columns (one at a time, summed), standardised.

    Summed over k columns it is about chi-squared with k degrees of freedom
    when the columns add nothing; standardising lets pairs with few and many
    pairs of bins compete.
    """
    residual = y - expected
    variance = expected * (1 - expected)
    gradient = columns.T @ residual
    information = columns.T @ variance
    k = columns.shape[1]
    total = float(np.sum(gradient**2 / np.maximum(information, 1e-12)))
    return float((total - k) / math.sqrt(2 * k))


def _cv_auc(
    matrix: np.ndarray[Any, Any],
    y: np.ndarray[Any, Any],
    strength: float,
    folds: Sequence[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]],
) -> float:
    """Mean ROC AUC of the regression on held-out folds of the learning leads."""
    aucs = []
    for train, test in folds:
        fit = _quick_fit(strength).fit(matrix[train], y[train])
        aucs.append(roc_auc_score(y[test], fit.decision_function(matrix[test])))
    return float(np.mean(aucs))


def _cell_columns(
    pair: Pair, first: np.ndarray[Any, Any], second: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """One 0/1 column per cell of a pair, from each lead's bins of its two fields."""
    return np.column_stack(
        [(first == i) & (second == j) for i, j in pair.cells]
    ).astype(float)


def _quick_fit(strength: float) -> LogisticRegression:
    """The regression for choosing pairs: the same fit, by Newton steps (faster)."""
    return LogisticRegression(C=strength, solver="newton-cholesky", max_iter=100)


def _holding(bins: FeatureBins, values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """Whether each bin's rule holds on each value (leads x bins)."""
    cache: dict[Any, list[bool]] = {}
    out = np.zeros((len(values), len(bins.bins)), dtype=bool)
    for row, value in enumerate(values):
        key = _cache_key(value)
        if key not in cache:
            cache[key] = [b.holds(value) for b in bins.bins]
        out[row] = cache[key]
    return out


def _values(frame: pd.DataFrame, name: str) -> list[Any]:
    return list(frame[name]) if name in frame else [None] * len(frame)


def _indicators(bins: FeatureBins, values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """One 0/1 column per bin: whether the bin's rule holds on the lead's value."""
    index = bins.assign(values)
    matrix = np.zeros((len(values), len(bins.bins)), dtype=float)
    rows = np.flatnonzero(index >= 0)
    matrix[rows, index[rows]] = 1.0
    return matrix


def placeholder_bin(values: Sequence[str]) -> Bin:
    """The bin of the values that mean missing (a rule of their own)."""
    return Bin("categories", 0, 0, 0.0, categories=tuple(values))


def _feature_points(
    bins: Sequence[Bin], points: Sequence[float], values: Sequence[Any]
) -> np.ndarray[Any, Any]:
    """The points a feature's rules give each value (every matching rule adds)."""
    cache: dict[Any, float] = {}
    out = np.empty(len(values), dtype=float)
    for i, value in enumerate(values):
        key = _cache_key(value)
        if key not in cache:
            cache[key] = math.fsum(
                p for b, p in zip(bins, points, strict=True) if b.holds(value)
            )
        out[i] = cache[key]
    return out


def _cache_key(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return (type(value).__name__, value)


def attribute_scores(model: Model, frame: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Each lead's score from its attributes alone, read by the scoring engine."""
    records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
    return np.array(
        [engine_score(model, row, [], READ_AT).score for row in records], dtype=float
    )


def scale_model(model: Model, scale: float) -> Model:
    """A copy of a model with every point, cap, floor and threshold times ``scale``."""
    data = model.model_dump(by_alias=True, exclude_none=True)
    for section in ("fit", "intent"):
        for rule in data.get(section, []):
            rule["points"] = round(rule["points"] * scale)
    for group in data.get("groups", []):
        for key in ("cap", "floor"):
            if key in group:
                group[key] = round(group[key] * scale)
    if "total_cap" in data:
        data["total_cap"] = round(data["total_cap"] * scale)
    data["threshold"] = round(data["threshold"] * scale)
    return Model.model_validate(data)
