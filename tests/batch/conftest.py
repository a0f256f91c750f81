"""Fixtures of the batch tests: one local Spark session for the whole run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[Any]:
    """An Ibis backend on a local[1] Spark bound to 127.0.0.1; skipped without Java."""
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 on PATH; none found")
    from mql.batch import connect, spark_session

    backend = connect("spark")
    yield backend
    spark_session().stop()
