"""Shared fixtures: real data paths and a throw-away PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def _admin_engine():  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the PostgreSQL server; skipped with the reason when none answers."""
    import sqlalchemy as sa

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


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    import sqlalchemy as sa

    name = f"mql_test_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine()
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
