"""How well scores rank and predict conversion: the figures of an evaluation.

ROC AUC: the chance that a random converter scores above a random non-converter.
PR AUC (average precision): precision averaged over recall, telling more than ROC
AUC when converters are rare. Log loss: how far predicted probabilities are from
what happened (lower is better). Calibration: predicted against observed rates.
Gains: the share of converters found in the top deciles of scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

#: Resamples for the bootstrap interval of ROC AUC.
BOOTSTRAP_RESAMPLES = 200
#: The interval's coverage (95%).
CONFIDENCE = 0.95
#: Bands of the reliability table and of the gains table.
BANDS = 10
#: Probabilities are kept this far from 0 and 1 for the log loss.
EPSILON = 1e-12
#: Points kept of the ROC and precision-recall curves (enough to draw them).
CURVE_POINTS = 200

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Band:
    """One band of leads in a calibration or gains table."""

    leads: int
    converters: int
    low: float
    high: float
    predicted: float

    @property
    def rate(self) -> float:
        """The share of the band's leads that converted."""
        return self.converters / self.leads if self.leads else 0.0


@dataclass(frozen=True)
class AtThreshold:
    """What a threshold does: the MQL share, recall of converters and precision."""

    threshold: float
    mql_share: float
    recall: float
    precision: float
    mqls: int


@dataclass(frozen=True)
class Metrics:
    """The figures of one model on one set of leads."""

    leads: int
    converters: int
    roc_auc: float
    roc_auc_ci: tuple[float, float]
    pr_auc: float
    log_loss: float | None
    calibration: tuple[Band, ...]
    gains: tuple[Band, ...]
    at_threshold: AtThreshold | None
    roc: tuple[tuple[float, float], ...] = ()
    pr: tuple[tuple[float, float], ...] = ()


def measure(
    y: Array,
    scores: Array,
    probabilities: Array | None = None,
    threshold: float | None = None,
    mql: Array | None = None,
    seed: int = 0,
) -> Metrics:
    """Every figure for scores (higher = more likely) against outcomes (0/1).

    ``mql`` flags the MQLs when the engine decided them (disqualifiers count);
    else a lead is an MQL when its score is at or above ``threshold``.
    """
    y = np.asarray(y, dtype=int)
    scores = np.asarray(scores, dtype=float)
    at = None
    if threshold is not None:
        flags = scores >= threshold if mql is None else np.asarray(mql, dtype=bool)
        at = at_threshold(y, flags, threshold)
    return Metrics(
        leads=len(y),
        converters=int(y.sum()),
        roc_auc=float(roc_auc_score(y, scores)),
        roc_auc_ci=bootstrap_auc(y, scores, seed=seed),
        pr_auc=float(average_precision_score(y, scores)),
        log_loss=None if probabilities is None else _log_loss(y, probabilities),
        calibration=() if probabilities is None else calibration(y, probabilities),
        gains=gains(y, scores),
        at_threshold=at,
        roc=roc_points(y, scores),
        pr=pr_points(y, scores),
    )


def roc_points(y: Array, scores: Array) -> tuple[tuple[float, float], ...]:
    """The ROC curve as (false positive rate, true positive rate), thinned."""
    fpr, tpr, _ = roc_curve(y, scores)
    return _thin(fpr, tpr)


def pr_points(y: Array, scores: Array) -> tuple[tuple[float, float], ...]:
    """The precision-recall curve as (recall, precision), thinned."""
    precision, recall, _ = precision_recall_curve(y, scores)
    return _thin(recall[::-1], precision[::-1])


def _thin(x: Array, y: Array) -> tuple[tuple[float, float], ...]:
    """At most about CURVE_POINTS points of a curve, its ends kept."""
    step = max(1, len(x) // CURVE_POINTS)
    keep = sorted({*range(0, len(x), step), len(x) - 1})
    return tuple((float(x[i]), float(y[i])) for i in keep)


def at_threshold(y: Array, flags: Array, threshold: float) -> AtThreshold:
    """MQL share, recall and precision for given MQL flags."""
    mqls = int(flags.sum())
    hits = int(y[flags].sum())
    return AtThreshold(
        threshold=threshold,
        mql_share=mqls / len(y),
        recall=hits / max(int(y.sum()), 1),
        precision=hits / mqls if mqls else 0.0,
        mqls=mqls,
    )


def bootstrap_auc(
    y: Array, scores: Array, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """A percentile bootstrap interval for ROC AUC (leads drawn with replacement)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        rows = rng.integers(0, len(y), len(y))
        if y[rows].min() != y[rows].max():
            values.append(roc_auc_score(y[rows], scores[rows]))
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def calibration(y: Array, probabilities: Array, bands: int = BANDS) -> tuple[Band, ...]:
    """Reliability table: leads in bands of equal size by predicted probability."""
    order = np.argsort(probabilities, kind="stable")
    out = []
    for rows in np.array_split(order, bands):
        if len(rows) == 0:
            continue
        p = probabilities[rows]
        out.append(
            Band(
                len(rows),
                int(y[rows].sum()),
                float(p.min()),
                float(p.max()),
                float(p.mean()),
            )
        )
    return tuple(out)


def gains(y: Array, scores: Array, bands: int = BANDS) -> tuple[Band, ...]:
    """Leads in deciles of score, best first (ties split by lead order)."""
    order = np.argsort(-scores, kind="stable")
    out = []
    for rows in np.array_split(order, bands):
        if len(rows) == 0:
            continue
        s = scores[rows]
        out.append(
            Band(len(rows), int(y[rows].sum()), float(s.min()), float(s.max()), 0.0)
        )
    return tuple(out)


def cumulative_gain(bands: tuple[Band, ...]) -> list[tuple[float, float, float]]:
    """Per decile: cumulative share of leads, of converters, and lift."""
    leads = sum(b.leads for b in bands)
    converters = max(sum(b.converters for b in bands), 1)
    out = []
    seen_leads = seen_conv = 0
    for band in bands:
        seen_leads += band.leads
        seen_conv += band.converters
        share, gain = seen_leads / leads, seen_conv / converters
        out.append((share, gain, gain / share))
    return out


def _log_loss(y: Array, probabilities: Array) -> float:
    p = np.clip(np.asarray(probabilities, dtype=float), EPSILON, 1 - EPSILON)
    return float(log_loss(y, p, labels=[0, 1]))
