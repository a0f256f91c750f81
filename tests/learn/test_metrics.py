"""The figures of an evaluation on scores whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mql.learn import measure
from mql.learn.metrics import cumulative_gain


@pytest.fixture
def sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 2000)
    scores = y * 1.0 + rng.normal(0, 1, 2000)
    probabilities = 1 / (1 + np.exp(-(scores - 0.5) * 2))
    return y, scores, probabilities


def test_auc_and_its_interval(
    sample: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    y, scores, p = sample
    metrics = measure(y, scores, p, threshold=0.5)
    assert metrics.roc_auc == pytest.approx(roc_auc_score(y, scores))
    low, high = metrics.roc_auc_ci
    assert low < metrics.roc_auc < high
    assert high - low < 0.06


def test_gains_cover_every_lead_and_end_at_all_converters(
    sample: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    y, scores, p = sample
    metrics = measure(y, scores, p)
    assert sum(b.leads for b in metrics.gains) == len(y)
    gains = cumulative_gain(metrics.gains)
    assert gains[-1][:2] == (1.0, 1.0)
    assert gains[0][2] > 1.3  # the best decile converts well above the average
    assert [b.high for b in metrics.gains] == sorted(
        (b.high for b in metrics.gains), reverse=True
    )


def test_calibration_of_well_calibrated_probabilities(
    sample: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> None:
    y, scores, _ = sample
    true_p = 1 / (1 + np.exp(-(scores - 0.5)))
    metrics = measure(y, scores, true_p)
    for band in metrics.calibration:
        assert band.rate == pytest.approx(band.predicted, abs=0.12)


def test_at_threshold_uses_the_engines_mql_flags_when_given() -> None:
    y = np.array([1, 0, 1, 0])
    scores = np.array([9.0, 8.0, 7.0, 1.0])
    flags = np.array([True, False, True, False])  # lead 2 disqualified
    at = measure(y, scores, threshold=5, mql=flags).at_threshold
    assert at is not None
    assert (at.mqls, at.recall, at.precision, at.mql_share) == (2, 1.0, 1.0, 0.5)
