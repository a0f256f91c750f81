"""Learning with few converters: a warning, and points shrunk towards the current."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mql.learn import LeadData, Options, learn, learn_scorecard
from mql.learn.scorecard import attribute_scores
from mql.model import Model

pytestmark = pytest.mark.shared_data

SMALL = 220  # leads: under the 100 converters that the warning needs
REFIT_SAMPLE = 1000  # leads: enough converters to learn without the warning


@pytest.fixture(scope="module")
def small_and_rest(x_leads: LeadData) -> tuple[LeadData, LeadData]:
    rows = np.random.default_rng(0).permutation(len(x_leads.outcome))
    return x_leads.subset(rows[:SMALL]), x_leads.subset(rows[SMALL:])


def test_few_converters_are_warned_about(
    small_and_rest: tuple[LeadData, LeadData],
    hand_model: Model,
    caplog: pytest.LogCaptureFixture,
) -> None:
    small, _ = small_and_rest
    with caplog.at_level(logging.WARNING):
        result = learn(small, Options(current=hand_model, folds=0))
    assert small.positives < 100
    assert result.warnings[0].startswith(f"only {small.positives} converted leads")
    assert "shrunk towards the current model's" in caplog.text
    low, high = result.evaluations[0].metrics.roc_auc_ci
    assert high - low > 0.05  # few held-out leads: a wide interval, shown


def test_shrinking_towards_the_current_model_beats_both_alone(
    small_and_rest: tuple[LeadData, LeadData], hand_model: Model
) -> None:
    small, rest = small_and_rest
    alone = learn_scorecard(small)
    shrunk = learn_scorecard(small, current=hand_model)
    auc_alone = roc_auc_score(rest.outcome, alone.scores(rest.frame))
    auc_shrunk = roc_auc_score(rest.outcome, shrunk.scores(rest.frame))
    auc_current = roc_auc_score(rest.outcome, attribute_scores(hand_model, rest.frame))
    assert shrunk.current_scale > 0
    assert auc_shrunk > max(auc_alone, auc_current)


def test_the_shrunk_model_file_carries_the_scaled_current_rules(
    small_and_rest: tuple[LeadData, LeadData], hand_model: Model
) -> None:
    small, _ = small_and_rest
    result = learn(small, Options(current=hand_model, folds=0))
    ids = [rule.id for rule in result.written.model.fit]
    assert "current.origin.lead-add-form" in ids
    assert "The current model's fit rules, their points times" in result.written.text


def test_refit_measures_the_split_model_and_writes_the_all_data_one(
    x_leads: LeadData,
) -> None:
    sample = x_leads.subset(np.arange(REFIT_SAMPLE))
    plain = learn(sample, Options(folds=0))
    refit = learn(sample, Options(folds=0, refit=True))
    assert not plain.refitted
    assert refit.refitted
    assert refit.measured is not None
    # What was measured is the split's model, the same with or without --refit.
    assert refit.measured.text == plain.written.text
    assert refit.evaluations == plain.evaluations
    assert refit.card.trained_on == len(sample.outcome)
    assert plain.card.trained_on == plain.train_leads
