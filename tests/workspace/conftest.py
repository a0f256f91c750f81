"""A store on each database: SQLite in a temporary file, and PostgreSQL.

PostgreSQL gets one database per test module (creating one takes most of a
second), emptied before each test, so tests stay independent and the module fast.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from mql.store import Store, load_table_modules, metadata, open_store


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL database for one test module, dropped afterwards."""
    name = f"mql_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(postgres_server).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = :n and pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'drop database if exists "{name}"'))
        admin.dispose()


def _emptied(store: Store) -> Store:
    load_table_modules()
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with store.begin() as conn:
        conn.execute(sa.text(f"truncate {names} restart identity cascade"))
    return store


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A freshly migrated, empty store on SQLite, then on PostgreSQL (skipped
    visibly when no server answers)."""
    if request.param == "sqlite":
        opened = open_store(f"sqlite:///{tmp_path / 'mql.db'}")
    else:
        opened = _emptied(open_store(request.getfixturevalue("module_postgres_url")))
    try:
        yield opened
    finally:
        opened.close()
