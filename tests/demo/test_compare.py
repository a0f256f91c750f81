"""The comparison of an MQL list with real outcomes."""

from __future__ import annotations

import pytest

from mql.demo.compare import compare


def test_figures_follow_from_the_counts() -> None:
    pairs = [(True, True)] * 3 + [(True, False)] * 1 + [(False, True)] * 1
    pairs += [(False, False)] * 15
    result = compare(pairs)
    assert (result.contacts, result.converters, result.mqls, result.caught) == (
        20,
        4,
        4,
        3,
    )
    assert result.mql_share == pytest.approx(0.2)
    assert result.caught_share == pytest.approx(0.75)
    assert result.precision == pytest.approx(0.75)
    assert result.lift == pytest.approx(0.75 / 0.2)
    assert result.to_dict()["converters_caught"] == 3


def test_empty_input_gives_zeros_not_errors() -> None:
    result = compare([])
    assert (result.mql_share, result.precision, result.lift) == (0.0, 0.0, 0.0)
