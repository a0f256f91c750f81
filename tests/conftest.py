"""Shared fixtures: real data paths, throw-away PostgreSQL databases, and a
migrated store on each database.

PostgreSQL stores get one database per test module (creating one takes most of a
second), emptied before each test, so tests stay independent and modules fast.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from mql.store import Store, load_table_modules, metadata, open_store

REPO = Path(__file__).resolve().parent.parent
#: The public data sets sit beside the repository in CI and on developer machines.
SHARED_DATA = Path(os.environ.get("MQL_SHARED_DATA", REPO.parent / "shared" / "data"))
POSTGRES_URL = os.environ.get(
    "MQL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of public data sets; the test is skipped, visibly, without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"public data sets not found at {SHARED_DATA} (set MQL_SHARED_DATA)"
        )
    return SHARED_DATA


def _admin_engine() -> sa.Engine:
    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the PostgreSQL server; skipped with the reason when none answers."""
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server answers at {POSTGRES_URL}: {exc.orig}")
    finally:
        # An engine left to the garbage collector warns, and warnings are errors.
        engine.dispose()
    return POSTGRES_URL


@contextmanager
def _throwaway_database(server: str) -> Iterator[str]:
    """Create an empty database on the server; drop it (and its sessions) after."""
    name = f"mql_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(server).set(database=name)
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


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with _throwaway_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL database for one test module, dropped afterwards."""
    with _throwaway_database(postgres_server) as url:
        yield url


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
