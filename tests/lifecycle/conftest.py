"""Stores on SQLite and PostgreSQL with leads and stored scores to move around."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mql.lifecycle import Lifecycle, parse_config
from mql.store import Store, open_store
from mql.store.tables import accounts, lead_scores, leads

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00 UTC

CONFIG = """
owners:
  - {id: ana, name: Ana Silva, capacity: 2}
  - {id: ben, name: Ben Okafor, capacity: 2}
  - {id: cho, name: Cho Park, capacity: 1}
routing:
  rules:
    - name: tax-west
      when: {service_line: tax, state: [CA, OR, WA]}
      owners: [cho]
sla:
  hours: 4
  timezone: UTC
  holidays: [2026-12-25]
  on_overdue: reassign
  escalate_to: ana
  max_reassignments: 1
"""


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on each database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'mql.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def lifecycle(store: Store) -> Lifecycle:
    """The lifecycle over the store with three owners and a 4-hour SLA."""
    return Lifecycle(store, parse_config(CONFIG, source="test.yaml"))


def add_account(store: Store, domain: str, **attributes: Any) -> int:
    """Insert an account; returns its id."""
    return _insert(
        store,
        accounts,
        domain=domain,
        name=domain,
        attributes=attributes,
        created_at=T0,
        updated_at=T0,
    )


def add_lead(
    store: Store,
    email: str,
    account_id: int | None = None,
    created: datetime = T0 - timedelta(days=30),
    do_not_email: bool = False,
    opted_out: bool = False,
    **attributes: Any,
) -> int:
    """Insert a lead; returns its id."""
    return _insert(
        store,
        leads,
        email=email,
        account_id=account_id,
        attributes=attributes,
        do_not_email=do_not_email,
        opted_out=opted_out,
        created_at=created,
        updated_at=created,
    )


def _insert(store: Store, table: sa.Table, **values: Any) -> int:
    """Insert one row; returns its id."""
    with store.begin() as conn:
        query = sa.insert(table).values(**values).returning(table.c.id)
        return int(conn.execute(query).scalar_one())


def set_score(
    store: Store,
    lead_id: int,
    score: float,
    mql: bool,
    last_activity: datetime,
    mql_until: datetime | None = None,
    grade: str = "A",
    as_of: datetime | None = None,
) -> None:
    """Write (or replace) a lead's stored score, as the scoring engine would."""
    values = {
        "lead_id": lead_id,
        "fit": 30.0,
        "grade": grade,
        "group_values": {"web": score - 30.0},
        "last_activity": last_activity,
        "score": score,
        "as_of": as_of or last_activity,
        "mql": mql,
        "mql_until": mql_until,
        "disqualified_reason": None,
        "state": {},
        "model_fingerprint": "test",
        "updated_at": as_of or last_activity,
    }
    with store.begin() as conn:
        conn.execute(sa.delete(lead_scores).where(lead_scores.c.lead_id == lead_id))
        conn.execute(sa.insert(lead_scores).values(**values))


def to_sal(lifecycle: Lifecycle, lead: int, at: datetime) -> None:
    """Take a lead to SAL the only way there is: mql, approval, acceptance."""
    from mql.lifecycle import Actor

    lifecycle.move(lead, "mql", Actor("maria"), reason="asked for a call", at=at)
    (handoff,) = [h for h in lifecycle.handoffs("pending") if h.lead_id == lead]
    approved = lifecycle.approve(handoff.id, Actor("maria"), at=at)
    lifecycle.accept(lead, Actor(approved.owner or "nobody"), at=at)
