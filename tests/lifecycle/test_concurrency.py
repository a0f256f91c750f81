"""Parallel processes lose no move and open no duplicate handoff (PostgreSQL, and
SQLite for the syncs)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from mql.errors import LifecycleError
from mql.lifecycle import Actor, Lifecycle, parse_config
from mql.store import open_store
from mql.store.lifecycle_tables import handoffs, lifecycle_transitions

from .conftest import CONFIG, T0, add_lead, set_score

WORKERS = 6
LEADS = 20


def _in_parallel(work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` in WORKERS threads released at the same moment."""
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database file on SQLite, a fresh database on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'race.db'}"
    return str(request.getfixturevalue("postgres_url"))


def test_parallel_syncs_open_one_handoff_per_lead(url: str) -> None:
    setup = open_store(url)
    ids = [add_lead(setup, f"l{i}@x.example") for i in range(LEADS)]
    for lead in ids:
        set_score(setup, lead, 70.0, True, T0, mql_until=T0 + timedelta(days=30))
    config = parse_config(CONFIG)
    # Each worker has its own engine: separate connections, as separate processes.
    stores = [open_store(url, migrate=False) for _ in range(WORKERS)]
    try:
        errors = _in_parallel(lambda i: Lifecycle(stores[i], config).sync(T0))
        assert errors == []
        with setup.begin() as conn:
            per_lead = conn.execute(
                sa.select(handoffs.c.lead_id, sa.func.count()).group_by(
                    handoffs.c.lead_id
                )
            ).all()
            moves = conn.execute(
                sa.select(sa.func.count()).select_from(lifecycle_transitions)
            ).scalar_one()
        assert sorted(per_lead) == [(lead, 1) for lead in ids]
        assert moves == LEADS  # one lead -> mql move each, none lost or doubled
    finally:
        for store in [*stores, setup]:
            store.close()


@pytest.mark.postgres
def test_racing_moves_on_one_lead_let_exactly_one_win(postgres_url: str) -> None:
    setup = open_store(postgres_url)
    lead = add_lead(setup, "race@x.example")
    # Its state row exists already, so only the row lock and version guard it.
    assert Lifecycle(setup).stage(lead) == "lead"
    stores = [open_store(postgres_url, migrate=False) for _ in range(WORKERS)]
    try:
        errors = _in_parallel(
            lambda i: Lifecycle(stores[i]).move(
                lead, "mql", Actor(f"person{i}"), at=T0 + timedelta(seconds=i)
            )
        )
        history = Lifecycle(setup).history(lead)
        assert len(history) == 1
        assert len(errors) == WORKERS - 1
        assert all(isinstance(e, LifecycleError) for e in errors)
        assert all("already in stage mql" in str(e) for e in errors)
    finally:
        for store in [*stores, setup]:
            store.close()
