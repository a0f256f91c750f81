"""The split into learning and held-out leads refuses shares it cannot honour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mql.errors import InputError
from mql.learn import LeadData, Options, from_frame, learn


def _synthetic(rows: int, seed: int = 1) -> LeadData:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    frame = pd.DataFrame({"visits": rng.poisson(2, rows) + 2 * y, "converted": y})
    return from_frame(frame, "converted", source="crm.csv")


@pytest.mark.parametrize(
    ("share", "rows", "message"),
    [
        (1.0, 200, r"--test-share 1: the share of leads held out must be above 0"),
        (0.0, 200, r"--test-share 0: the share .* above 0 and below 1"),
        (-0.3, 200, r"--test-share -0.3: the share"),
        (0.9, 40, r"--test-share 0.9 of 40 leads \(\d+ converted\) leaves too few"),
        (0.01, 40, r"--test-share 0.01 of 40 leads .* leaves too few"),
    ],
)
def test_a_test_share_out_of_range_is_refused(
    share: float, rows: int, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        learn(_synthetic(rows), Options(test_share=share, folds=0))
