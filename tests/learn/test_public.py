"""Recipes of the public data sets, and what they refuse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mql.errors import InputError
from mql.learn import from_frame, learn_scorecard, recipe


def test_an_unknown_recipe_names_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown recipe 'crm'; choose one of x-"):
        recipe("crm", tmp_path / "leads.csv")


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"none.csv: cannot read the leads file"):
        recipe("x-education", tmp_path / "none.csv")


def test_bank_rows_need_month_names(tmp_path: Path) -> None:
    path = tmp_path / "bank.csv"
    path.write_text("age;month;duration;y\n30;may;10;no\n41;13;20;yes\n")
    with pytest.raises(InputError, match=r"row 3: month '13' is not a three-letter"):
        recipe("bank-marketing", path)


def test_nothing_to_learn_from_says_so() -> None:
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(
        {"noise": rng.normal(size=400), "converted": rng.integers(0, 2, 400)}
    )
    with pytest.raises(InputError, match=r"no feature tells converters apart"):
        learn_scorecard(from_frame(frame, "converted", source="noise.csv"))


@pytest.mark.shared_data
def test_a_field_absent_when_scoring_counts_as_missing(x_leads) -> None:  # type: ignore[no-untyped-def]
    card = learn_scorecard(x_leads.subset(np.arange(3000)))
    frame = x_leads.frame.iloc[:50].drop(columns=["Lead Origin"])
    blank = x_leads.frame.iloc[:50].assign(**{"Lead Origin": None})
    np.testing.assert_array_equal(card.scores(frame), card.scores(blank))
