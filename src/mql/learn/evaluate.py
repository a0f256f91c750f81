"""Evaluating any model on leads with a known outcome, scored by the real engine."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from mql.learn.data import LeadData
from mql.learn.metrics import Metrics, measure
from mql.learn.threshold import Advice, Goal, advise
from mql.model import Model
from mql.scoring import Event, score

logger = logging.getLogger(__name__)

#: Folds for cross-fitted calibration of a model that states no probabilities.
CALIBRATION_FOLDS = 5

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class EngineScores:
    """Scores and MQL decisions of the scoring engine for each lead."""

    scores: Array
    mql: Array


@dataclass(frozen=True)
class Evaluation:
    """A model's figures on some leads, and the threshold advice for them."""

    name: str
    metrics: Metrics
    advice: Advice | None = None


def engine_scores(
    model: Model,
    data: LeadData,
    at: datetime,
    events: Sequence[Sequence[Event]] | None = None,
) -> EngineScores:
    """Score every lead with :func:`mql.scoring.score` (events optional)."""
    records = data.records()
    histories: Sequence[Sequence[Event]] = events or [()] * len(records)
    results = [
        score(model, attributes, history, at)
        for attributes, history in zip(records, histories, strict=True)
    ]
    return EngineScores(
        scores=np.array([r.score for r in results], dtype=float),
        mql=np.array([r.mql for r in results], dtype=bool),
    )


def platt(train_scores: Array, train_y: Array) -> LogisticRegression:
    """A one-feature logistic map from score to probability (Platt scaling)."""
    return LogisticRegression(C=1e6, max_iter=1000).fit(
        np.asarray(train_scores, dtype=float)[:, None], train_y
    )


def cross_fitted_probabilities(scores: Array, y: Array, seed: int = 0) -> Array:
    """Probabilities for scores, each lead's from a map fitted on the other folds."""
    out = np.empty(len(y), dtype=float)
    folds = StratifiedKFold(
        min(CALIBRATION_FOLDS, int(min(y.sum(), len(y) - y.sum()))),
        shuffle=True,
        random_state=seed,
    )
    for train, test in folds.split(scores[:, None], y):
        out[test] = platt(scores[train], y[train]).predict_proba(scores[test, None])[
            :, 1
        ]
    return out


def evaluate_model(
    model: Model,
    data: LeadData,
    at: datetime,
    *,
    goal: Goal | None = None,
    name: str | None = None,
    seed: int = 0,
) -> Evaluation:
    """Every figure of a model on leads with a known outcome, with threshold advice.

    The model scores the leads' attributes through the scoring engine (a file
    has no events: intent rules give 0); MQL decisions are the engine's
    (threshold, minimum grade and disqualifiers).
    """
    result = engine_scores(model, data, at)
    return evaluate_scores(model, data.outcome, result, goal=goal, name=name, seed=seed)


def evaluate_scores(
    model: Model,
    y: Array,
    result: EngineScores,
    *,
    goal: Goal | None = None,
    name: str | None = None,
    seed: int = 0,
) -> Evaluation:
    """Every figure of a model from the engine's scores and decisions for each lead.

    Probabilities for the log loss and the calibration come from a
    score-to-probability map fitted on the other folds (the model itself states
    none).
    """
    probabilities = cross_fitted_probabilities(result.scores, y, seed)
    metrics = measure(
        y, result.scores, probabilities, model.threshold, result.mql, seed=seed
    )
    logger.info(
        "evaluated %s on %d leads: ROC AUC %.3f", model.name, len(y), metrics.roc_auc
    )
    return Evaluation(name or model.name, metrics, advise(y, result.scores, goal))
