"""``mql learn``: fit a points model, prove it on held-out leads, advise a threshold.

The leads are split once (stratified, seeded) into a training part and a held-out
part. The model is learned on the training part, its threshold chosen there,
and it is written as a model file. The held-out part then scores the written
file through the scoring engine, beside the unrounded fit and the current
model; cross-validation repeats the whole fit on other splits. With ``refit``
the model is then learned again on every lead and that one is written: the
figures remain those of the model learned on the training part.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from mql.errors import InputError, LearnError
from mql.learn.data import MIN_ROWS, LeadData
from mql.learn.evaluate import Evaluation, engine_scores, platt
from mql.learn.leakage import Finding, guard, suspicious, suspicious_warning
from mql.learn.metrics import measure
from mql.learn.scorecard import (
    DEFAULT_PDO,
    FEW_POSITIVES,
    MIN_IV,
    READ_AT,
    Scorecard,
    learn_scorecard,
)
from mql.learn.threshold import Advice, Goal, advise
from mql.learn.writer import ModelText, write_model
from mql.model import Model

logger = logging.getLogger(__name__)

#: Share of the leads held out for the proof.
DEFAULT_TEST_SHARE = 0.3
#: Folds of the cross-validation (0 or 1: none).
DEFAULT_FOLDS = 5


@dataclass(frozen=True)
class Options:
    """How to learn: scale, regularisation, split, threshold goal, current model."""

    name: str = "learned"
    pdo: float = DEFAULT_PDO
    c: float | None = None
    min_iv: float = MIN_IV
    test_share: float = DEFAULT_TEST_SHARE
    folds: int = DEFAULT_FOLDS
    seed: int = 0
    goal: Goal = field(default_factory=Goal)
    current: Model | None = None
    allow_leaky: bool = False
    refit: bool = False


@dataclass(frozen=True)
class CrossValidation:
    """ROC AUC of the rounded model on each held-out fold."""

    aucs: tuple[float, ...]

    @property
    def mean(self) -> float:
        """The mean over folds."""
        return float(np.mean(self.aucs))

    @property
    def sd(self) -> float:
        """The standard deviation over folds."""
        return float(np.std(self.aucs, ddof=1)) if len(self.aucs) > 1 else 0.0


@dataclass(frozen=True)
class Result:
    """Everything ``mql learn`` found: the model, its proof and the advice.

    ``card`` and ``written`` are the model to write: the one learned on the
    training part, or with ``refit`` the one learned again on every lead.
    ``measured`` is the model file the held-out figures are for (the training
    part's), the same as ``written`` unless refitted.
    """

    card: Scorecard
    written: ModelText
    advice: Advice
    evaluations: tuple[Evaluation, ...]
    cv: CrossValidation | None
    leaks: tuple[Finding, ...]
    warnings: tuple[str, ...]
    train_leads: int
    test_leads: int
    measured: ModelText | None = None
    suspicious: tuple[Finding, ...] = ()

    @property
    def refitted(self) -> bool:
        """Whether the written model was learned again on every lead."""
        return self.measured is not None and self.measured is not self.written

    def evaluation(self, name: str) -> Evaluation:
        """The held-out evaluation of one of the compared models."""
        return next(e for e in self.evaluations if e.name == name)


def learn(data: LeadData, options: Options | None = None) -> Result:
    """Learn, write, prove and advise; see the module docstring for the steps."""
    options = options or Options()
    leaks = tuple(guard(data, options.allow_leaky))
    warnings = _small_data_warnings(data, options)
    train, test = split(data, options.test_share, options.seed)
    card, advice, written = _learn_and_write(train, options, "the training leads")
    evaluations = _held_out(card, written, train, test, options)
    cv = cross_validate(data, options) if options.folds > 1 else None
    measured = written
    strong = suspicious([f.bins for f in card.features])
    if options.refit:
        card, advice, written = _learn_and_write(data, options, "every lead")
        logger.info("refitted on all %d leads", len(data.outcome))
        seen = {f.field for f in strong}
        strong += [
            f
            for f in suspicious([f.bins for f in card.features])
            if f.field not in seen
        ]
    if strong:
        # Returned, not logged as a warning: the report prints it once.
        warnings += (suspicious_warning(strong),)
        logger.info("%s", warnings[-1])
    return Result(
        card,
        written,
        advice,
        evaluations,
        cv,
        leaks,
        warnings,
        len(train.outcome),
        len(test.outcome),
        measured,
        tuple(strong),
    )


def _learn_and_write(
    data: LeadData, options: Options, which: str
) -> tuple[Scorecard, Advice, ModelText]:
    """Learn on some leads, advise the threshold on them, write the model file."""
    card = _scorecard(data, options)
    advice = advise(data.outcome, card.scores(data.frame), options.goal)
    written = write_model(
        card,
        name=options.name,
        threshold=int(np.floor(advice.threshold)),
        learned_on=date.today(),
        note=f"Learned on {which} ({len(data.outcome)}). Threshold advice (on "
        f"{which}): {advice.reason}.",
    )
    return card, advice, written


def _scorecard(data: LeadData, options: Options) -> Scorecard:
    """A scorecard learned on ``data`` with the options' settings."""
    return learn_scorecard(
        data,
        pdo=options.pdo,
        c=options.c,
        current=_prior(data, options),
        min_iv=options.min_iv,
    )


def split(data: LeadData, test_share: float, seed: int) -> tuple[LeadData, LeadData]:
    """A stratified, seeded split into training and held-out leads.

    The share must leave both parts with converters and other leads, and the
    training part with at least ``MIN_ROWS`` leads.
    """
    if not 0 < test_share < 1:
        raise InputError(
            f"--test-share {test_share:g}: the share of leads held out must be "
            "above 0 and below 1 (0.3 holds out 30%)"
        )
    y = data.outcome
    rows = np.arange(len(y))
    try:
        train, test = train_test_split(
            rows, test_size=test_share, random_state=seed, stratify=y
        )
    except ValueError as exc:
        raise _too_few(data, test_share, str(exc)) from exc
    for part in (train, test):
        if len(part) < 2 or y[part].min() == y[part].max():
            raise _too_few(data, test_share, "one part has a single outcome")
    if len(train) < MIN_ROWS:
        raise _too_few(data, test_share, f"{len(train)} leads left to learn from")
    return data.subset(np.sort(train)), data.subset(np.sort(test))


def _too_few(data: LeadData, test_share: float, why: str) -> InputError:
    return InputError(
        f"--test-share {test_share:g} of {len(data.outcome)} leads "
        f"({data.positives} converted) leaves too few on one side ({why}): both the "
        f"learning and the held-out leads need converters and others, and at least "
        f"{MIN_ROWS} leads to learn from; choose a share nearer 0.3"
    )


def cross_validate(data: LeadData, options: Options) -> CrossValidation:
    """Learn on k-1 folds, score the k-th with the rounded points; k times."""
    folds = StratifiedKFold(options.folds, shuffle=True, random_state=options.seed)
    aucs = []
    for train_rows, test_rows in folds.split(data.frame, data.outcome):
        train = data.subset(train_rows)
        card = _scorecard(train, options)
        test = data.subset(test_rows)
        aucs.append(measure_auc(test.outcome, card.scores(test.frame)))
    result = CrossValidation(tuple(aucs))
    logger.info("cross-validated ROC AUC %.3f +/- %.3f", result.mean, result.sd)
    return result


def measure_auc(y: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> float:
    """ROC AUC alone."""
    return float(roc_auc_score(y, scores))


def _held_out(
    card: Scorecard,
    written: ModelText,
    train: LeadData,
    test: LeadData,
    options: Options,
) -> tuple[Evaluation, ...]:
    y = test.outcome
    engine = engine_scores(written.model, test, READ_AT)
    predicted = card.scores(test.frame)
    mismatch = np.flatnonzero(np.abs(engine.scores - predicted) > 1e-9)
    if len(mismatch):
        row = int(mismatch[0])
        raise LearnError(
            f"held-out lead {row}: the engine scores the written model "
            f"{engine.scores[row]:g}, the learner predicted {predicted[row]:g}; "
            "please report this with the model file"
        )
    threshold = written.model.threshold
    out = [
        Evaluation(
            "learned (rounded points)",
            measure(
                y,
                engine.scores,
                card.probability(engine.scores),
                threshold,
                engine.mql,
                seed=options.seed,
            ),
        ),
        Evaluation(
            "learned (unrounded)",
            measure(
                y,
                card.scores(test.frame, rounded=False),
                card.probabilities(test.frame, rounded=False),
                threshold,
                seed=options.seed,
            ),
        ),
    ]
    if options.current is not None:
        out.append(_current(options.current, train, test, options.seed))
    return tuple(out)


def _current(model: Model, train: LeadData, test: LeadData, seed: int) -> Evaluation:
    """The current model on the same held-out leads, calibrated on the training part."""
    fitted = engine_scores(model, train, READ_AT)
    held = engine_scores(model, test, READ_AT)
    calibrator = platt(fitted.scores, train.outcome)
    probabilities = calibrator.predict_proba(held.scores[:, None])[:, 1]
    return Evaluation(
        f"current ({model.name})",
        measure(
            test.outcome,
            held.scores,
            probabilities,
            model.threshold,
            held.mql,
            seed=seed,
        ),
    )


def _prior(train: LeadData, options: Options) -> Model | None:
    """The current model to shrink towards: only when converters are few."""
    return options.current if train.positives < FEW_POSITIVES else None


def _small_data_warnings(data: LeadData, options: Options) -> tuple[str, ...]:
    if data.positives >= FEW_POSITIVES:
        return ()
    shrink = (
        "the bins' points are shrunk towards the current model's"
        if options.current is not None
        else "the bins' points are shrunk hard towards 0; give --current MODEL to "
        "shrink towards your current points instead"
    )
    message = (
        f"only {data.positives} converted leads (fewer than {FEW_POSITIVES}): the "
        f"figures are uncertain (see the AUC interval) and {shrink}"
    )
    logger.warning(message)
    return (message,)
