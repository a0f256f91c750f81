"""A store on each database: SQLite in a temporary file, and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mql.store import Store, open_store


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A freshly migrated store on SQLite, then on PostgreSQL (skipped visibly
    when no server answers)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mql.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    try:
        yield opened
    finally:
        opened.close()
