"""Bulk reads and writes of what scoring needs: lead inputs, events, stored states.

Nothing here scores; :mod:`mql.workspace` turns these rows into scores.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.store.tables import accounts, events, lead_scores, leads

#: Ids per ``IN (...)`` list: below every SQLite build's bound-parameter limit.
IN_CHUNK = 500
#: Rows per bulk INSERT of lead scores.
WRITE_CHUNK = 5_000
#: The prefix of an account's fields among a lead's attributes.
ACCOUNT_PREFIX = "account."


@dataclass(frozen=True)
class LeadInput:
    """A lead as scoring sees it: identity, account label and flat attributes."""

    id: int
    email: str | None
    external_id: str | None
    account: str | None
    attributes: dict[str, Any]


@dataclass(frozen=True)
class EventRow:
    """A stored event: its key (the scoring id), type, instant and properties."""

    key: str
    type: str
    at: datetime
    properties: dict[str, Any]


@dataclass(frozen=True)
class StoredScore:
    """A lead's stored scoring state and when its stored read was taken."""

    lead_id: int
    state: dict[str, Any]
    as_of: datetime
    last_activity: datetime | None
    model_fingerprint: str


def _chunks(ids: list[int], size: int = IN_CHUNK) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _by_ids(
    conn: Connection, query: sa.Select[Any], column: Any, ids: Collection[int] | None
) -> Iterable[Any]:
    """Rows of ``query``, for all leads (ids None) or those ids, in chunks."""
    if ids is None:
        yield from conn.execute(query)
        return
    for part in _chunks(sorted(ids)):
        yield from conn.execute(query.where(column.in_(part)))


def lead_ids(conn: Connection) -> list[int]:
    """Every lead's id."""
    return list(conn.execute(sa.select(leads.c.id).order_by(leads.c.id)).scalars())


def load_leads(
    conn: Connection,
    ids: Collection[int] | None = None,
    email_domain: Callable[[str], str | None] | None = None,
) -> dict[int, LeadInput]:
    """Leads with their account's fields merged in (under ``account.``) and, given
    a function for it, ``email_domain``."""
    query = sa.select(
        leads,
        accounts.c.domain.label("account_domain"),
        accounts.c.name.label("account_name"),
        accounts.c.attributes.label("account_attributes"),
    ).select_from(leads.outerjoin(accounts, leads.c.account_id == accounts.c.id))
    out: dict[int, LeadInput] = {}
    for row in _by_ids(conn, query, leads.c.id, ids):
        out[row.id] = LeadInput(
            id=row.id,
            email=row.email,
            external_id=row.external_id,
            account=row.account_name or row.account_domain,
            attributes=flat_attributes(row),
        )
        domain = email_domain(row.email) if email_domain and row.email else None
        if domain is not None:
            out[row.id].attributes.setdefault("email_domain", domain)
    return out


def flat_attributes(row: Any) -> dict[str, Any]:
    """The attributes scoring reads: the lead's, its sources and ``account.*``."""
    flat: dict[str, Any] = dict(row.attributes or {})
    for name in ("first_source", "referral_source"):
        value = getattr(row, name)
        if value is not None:
            flat.setdefault(name, value)
    for key, value in (row.account_attributes or {}).items():
        flat[ACCOUNT_PREFIX + key] = value
    if row.account_name is not None:
        flat.setdefault("account.name", row.account_name)
    if row.account_domain is not None:
        flat.setdefault("account.domain", row.account_domain)
    return flat


def load_events(
    conn: Connection,
    ids: Collection[int] | None = None,
    until: datetime | None = None,
    run_id: int | None = None,
) -> dict[int, list[EventRow]]:
    """Each lead's events in (at, key) order; up to ``until``, of one run if asked."""
    query = sa.select(
        events.c.lead_id,
        events.c.event_key,
        events.c.type,
        events.c.at,
        events.c.properties,
    ).order_by(events.c.lead_id, events.c.at, events.c.event_key)
    if until is not None:
        query = query.where(events.c.at <= until)
    if run_id is not None:
        query = query.where(events.c.import_run_id == run_id)
    out: dict[int, list[EventRow]] = defaultdict(list)
    for row in _by_ids(conn, query, events.c.lead_id, ids):
        out[row.lead_id].append(
            EventRow(row.event_key, row.type, row.at, dict(row.properties or {}))
        )
    return out


def load_scores(
    conn: Connection, fingerprint: str, ids: Collection[int] | None = None
) -> dict[int, StoredScore]:
    """Stored states computed with this model (others are stale and left out)."""
    query = sa.select(
        lead_scores.c.lead_id,
        lead_scores.c.state,
        lead_scores.c.as_of,
        lead_scores.c.last_activity,
        lead_scores.c.model_fingerprint,
    ).where(lead_scores.c.model_fingerprint == fingerprint)
    return {
        row.lead_id: StoredScore(
            row.lead_id, row.state, row.as_of, row.last_activity, row.model_fingerprint
        )
        for row in _by_ids(conn, query, lead_scores.c.lead_id, ids)
    }


def mql_candidates_query(fingerprint: str, at: datetime) -> sa.CompoundSelect[int]:
    """The leads whose stored state says MQL at ``at``, as two range scans of the
    (mql, mql_until) index: ``mql_until is null`` and ``mql_until > at``."""

    def scan(until: sa.ColumnElement[bool]) -> sa.Select[int]:
        return sa.select(lead_scores.c.lead_id).where(
            lead_scores.c.mql == sa.true(),
            until,
            lead_scores.c.as_of <= at,
            lead_scores.c.model_fingerprint == fingerprint,
        )

    return sa.union_all(
        scan(lead_scores.c.mql_until.is_(None)), scan(lead_scores.c.mql_until > at)
    )


def mql_candidates(conn: Connection, fingerprint: str, at: datetime) -> list[int]:
    """Leads whose stored state says MQL at ``at``. A state is read at its last
    activity (``as_of``), so the answer holds for every lead whose last activity is
    at or before ``at``."""
    return list(conn.execute(mql_candidates_query(fingerprint, at)).scalars())


def current_ids(conn: Connection, fingerprint: str, at: datetime) -> set[int]:
    """Leads whose stored state can be read at ``at`` (same model, no activity
    after ``at``)."""
    query = sa.select(lead_scores.c.lead_id).where(
        lead_scores.c.as_of <= at, lead_scores.c.model_fingerprint == fingerprint
    )
    return set(conn.execute(query).scalars())


def forget_scores(conn: Connection, ids: Collection[int] | None) -> None:
    """Drop stored states (they are rebuilt from events when next needed)."""
    if ids is None:
        conn.execute(lead_scores.delete())
        return
    for part in _chunks(sorted(ids)):
        conn.execute(lead_scores.delete().where(lead_scores.c.lead_id.in_(part)))


def save_scores(
    conn: Connection, rows: list[dict[str, Any]], replace_all: bool = False
) -> None:
    """Write lead score rows, replacing the leads' previous ones."""
    forget_scores(conn, None if replace_all else [r["lead_id"] for r in rows])
    for start in range(0, len(rows), WRITE_CHUNK):
        conn.execute(lead_scores.insert(), rows[start : start + WRITE_CHUNK])
