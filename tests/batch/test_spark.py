"""The batch engine on Spark (local mode) agrees with the per-lead engine."""

from __future__ import annotations

import warnings
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from pandas.errors import Pandas4Warning

from mql.batch import rescore
from mql.model import Model

from ._support import Lead, assert_same, histories, models, tables

pytestmark = [
    pytest.mark.spark,
    # PySpark 4.3 warns that it has not been validated with pandas 3.
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support:FutureWarning"
    ),
]


@settings(
    max_examples=3,
    deadline=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)
@given(m=models(), history=histories())
def test_spark_agrees_with_per_lead_engine(
    spark_backend: Any, m: Model, history: tuple[list[Lead], datetime]
) -> None:
    leads, at = history
    events, roster = tables(m, leads)
    with warnings.catch_warnings():
        # PySpark 4.3's Arrow conversion passes pandas 3 a deprecated keyword, and
        # re-raises the warning as an error unless it is ignored here.
        warnings.simplefilter("ignore", Pandas4Warning)
        result = rescore(m, events, roster, at, spark_backend)
    assert_same(m, leads, result, at)
