"""The learned points model: bins, points on a doubling-odds scale, the model file."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mql.learn import LeadData, Scorecard, learn_scorecard, split, write_model
from mql.learn.binning import Bin, fit_bins, shortest_between
from mql.learn.scorecard import attribute_scores
from mql.model import Condition, parse_model
from mql.scoring import matches

RANGE_BINS = [
    Bin("range", 10, 5, 0.0, None, 1.5),
    Bin("range", 10, 5, 0.0, 1.5, 49.5),
    Bin("range", 10, 5, 0.0, 49.5, None),
]
VALUES = st.one_of(
    st.none(),
    st.floats(-100, 100, allow_nan=False),
    st.integers(-100, 100),
    st.sampled_from(["", " ", "12", "abc", "Google", "google ", "GOOGLE"]),
)


@given(VALUES)
def test_a_bin_holds_exactly_where_the_engine_matches_its_rule(value: object) -> None:
    conditions = [
        Condition.model_validate({"max": 1.5}),
        Condition.model_validate({"min": 1.5, "max": 49.5}),
        Condition.model_validate({"min": 49.5}),
    ]
    for bin_, condition in zip(RANGE_BINS, conditions, strict=True):
        assert bin_.holds(value) == matches(condition, value)
    grouped = Bin("categories", 3, 1, 0.0, categories=("Google", "12"))
    in_list = Condition.model_validate({"in": ["Google", "12"]})
    assert grouped.holds(value) == matches(in_list, value)
    assert Bin("missing", 1, 0, 0.0).holds(value) == matches(
        Condition(present=False), value
    )


def test_spellings_the_engine_takes_as_equal_share_one_bin() -> None:
    values = ["Google", "google", "Direct", "direct ", None] * 30
    outcome = np.array([1, 1, 0, 0, 1] * 30)
    bins = fit_bins("source", values, outcome, numeric=False)
    categories = [c for b in bins.bins for c in b.categories]
    assert sorted(categories) == ["Direct", "Google"]
    assert [b.kind for b in bins.bins][-1] == "missing"


@pytest.fixture(scope="module")
def learned(x_leads: LeadData) -> tuple[Scorecard, LeadData]:
    train, test = split(x_leads, 0.3, seed=1)
    return learn_scorecard(train), test


@pytest.mark.shared_data
def test_the_engine_scores_the_written_model_as_the_learner_predicts(
    learned: tuple[Scorecard, LeadData],
) -> None:
    card, test = learned
    written = write_model(card, name="x", threshold=250)
    engine = attribute_scores(written.model, test.frame)
    np.testing.assert_array_equal(engine, card.scores(test.frame))
    assert written.model == parse_model(written.text)


@pytest.mark.shared_data
def test_pdo_points_double_the_odds(learned: tuple[Scorecard, LeadData]) -> None:
    card, _ = learned
    p0, p1 = card.probability(np.array([200.0, 200.0 + card.pdo]))
    assert (p1 / (1 - p1)) / (p0 / (1 - p0)) == pytest.approx(2.0)
    assert card.probability(np.array([card.even_score]))[0] == pytest.approx(0.5)
    assert card.score_for(0.5) == pytest.approx(card.even_score)


@pytest.mark.shared_data
def test_points_are_whole_numbers_and_each_feature_starts_at_zero(
    learned: tuple[Scorecard, LeadData],
) -> None:
    card, _ = learned
    for feature in card.features:
        assert min(feature.raw_points) == 0.0
        assert all(isinstance(p, int) for p in feature.points)
        assert (
            max(
                abs(r - p)
                for r, p in zip(feature.raw_points, feature.points, strict=True)
            )
            <= 0.5
        )


@pytest.mark.shared_data
def test_the_model_file_says_why_each_value(
    learned: tuple[Scorecard, LeadData],
) -> None:
    card, _ = learned
    text = write_model(card, name="x", threshold=250).text
    assert "every 20 points double the odds of converting" in text
    assert "# Lead Origin: information value" in text
    assert "converted (WoE" in text
    assert "-> " in text
    assert "when: {Lead Origin: {in: [" in text
    assert "{present: false}" in text
    assert '"Yes"' in text  # YAML would read a bare Yes as true


@pytest.mark.shared_data
def test_the_rounded_points_rank_as_well_as_the_unrounded(
    learned: tuple[Scorecard, LeadData],
) -> None:
    from sklearn.metrics import roc_auc_score

    card, test = learned
    rounded = roc_auc_score(test.outcome, card.scores(test.frame))
    exact = roc_auc_score(test.outcome, card.scores(test.frame, rounded=False))
    assert math.isclose(rounded, exact, abs_tol=0.002)


@pytest.mark.shared_data
def test_raw_imported_values_score_as_learned(
    learned: tuple[Scorecard, LeadData], shared_data: Path
) -> None:
    """Attributes as the importer keeps them (text "Select") score as learned."""
    card, _ = learned
    written = write_model(card, name="x", threshold=250)
    raw = pd.read_csv(shared_data / "x-education-leads" / "Leads.csv", nrows=800)
    assert (raw["Specialization"] == "Select").sum() > 100
    engine = attribute_scores(written.model, raw)
    np.testing.assert_array_equal(engine, card.scores(raw.replace("Select", None)))


@pytest.mark.shared_data
def test_the_batch_engine_scores_the_written_model_as_learned(
    learned: tuple[Scorecard, LeadData],
) -> None:
    from mql.batch import events_table, lead_attributes, leads_table, rescore

    card, test = learned
    model = write_model(card, name="x", threshold=250).model
    leads = leads_table(
        [(str(i), r) for i, r in enumerate(test.records())], lead_attributes(model)
    )
    result = rescore(
        model, events_table([], []), leads, datetime(2025, 1, 1, tzinfo=UTC)
    )
    scores = dict(
        zip(
            result.column("lead").to_pylist(),
            result.column("score").to_pylist(),
            strict=True,
        )
    )
    predicted = card.scores(test.frame)
    assert [scores[str(i)] for i in range(len(predicted))] == list(predicted)


def test_cut_points_are_short_decimals_between_the_same_values_seen() -> None:
    # Values like pages per visit: the solver's midpoints come out in single
    # precision (1.225000023841858); the written cut is the shortest decimal
    # strictly between the same two neighbouring values.
    rng = np.random.default_rng(2)
    grid = np.array([1.2, 1.25, 1.33, 2.04, 2.5, 3.0, 4.67, 5.1, 6.25, 7.0])
    values = rng.choice(grid, 3000)
    y = (rng.random(3000) < values / 8).astype(int)
    raw = fit_bins("pages", list(values), y, numeric=True)
    cuts = [b.high for b in raw.bins if b.kind == "range" and b.high is not None]
    assert len(cuts) >= 2
    for cut in cuts:
        below, above = grid[grid < cut].max(), grid[grid > cut].min()
        assert below < cut < above
        assert len(repr(cut).split(".")[-1]) <= 3, cut
    # Every value seen is in exactly one range bin, whose counts are as learned.
    for b in raw.bins:
        if b.kind == "range":
            assert b.count == sum(b.holds(v) for v in values)
    assert sum(b.count for b in raw.bins) == len(values)


@pytest.mark.parametrize(
    ("low", "high", "near", "cut"),
    [
        (1.2, 1.25, 1.225000023841858, 1.23),
        (2.0, 2.0799999, 2.0399999618530273, 2.04),
        (3.0, 5.0, 4.0, 4.0),
        (1262.0, 1263.0, 1262.5, 1262.5),
        (-0.5, 0.5, 0.0, 0.0),
    ],
)
def test_the_shortest_decimal_between_two_values(
    low: float, high: float, near: float, cut: float
) -> None:
    assert shortest_between(low, high, near) == cut
