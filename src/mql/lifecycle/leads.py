"""What the lifecycle reads about leads: who they are, consent, attributes, scores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.errors import LifecycleError
from mql.lifecycle.records import Snapshot, utc_text
from mql.lifecycle.routing import lead_attributes
from mql.store.tables import accounts, lead_scores, leads


@dataclass(frozen=True)
class LeadInfo:
    """A lead's identity, consent and attributes (account's under ``account.``)."""

    id: int
    email: str | None
    external_id: str | None
    do_not_email: bool
    opted_out: bool
    account_name: str | None
    attributes: Mapping[str, Any]
    created_at: datetime

    @property
    def may_email(self) -> bool:
        """False when the lead asked not to be emailed or unsubscribed."""
        return not (self.do_not_email or self.opted_out)

    def consent(self) -> dict[str, bool]:
        """The consent block every outbound payload carries."""
        return {
            "do_not_email": self.do_not_email,
            "opted_out": self.opted_out,
            "may_email": self.may_email,
        }

    def summary(self) -> dict[str, Any]:
        """The lead as outbound messages describe it."""
        return {
            "id": self.id,
            "email": self.email,
            "external_id": self.external_id,
            "account": self.account_name,
            "consent": self.consent(),
        }


#: The prefix naming a lead by its internal id, as `mql explain id:N` does.
_ID_PREFIX = "id:"
#: The largest id the integer id columns hold (PostgreSQL ``integer``).
MAX_ID = 2**31 - 1


def resolve_lead(conn: Connection, ref: str | int) -> int:
    """The id of the lead named by its id, email or external id."""
    text = str(ref).strip()
    number = text[len(_ID_PREFIX) :] if text.casefold().startswith(_ID_PREFIX) else ""
    if number.isdigit():
        conditions: list[sa.ColumnElement[bool]] = [_id_is(number)]
    else:
        conditions = [
            sa.func.lower(leads.c.email) == text.casefold(),
            leads.c.external_id == text,
        ]
    if text.isdigit():
        conditions.insert(0, _id_is(text))
    rows = conn.execute(sa.select(leads.c.id).where(sa.or_(*conditions))).all()
    ids = sorted({int(row.id) for row in rows})
    if not ids:
        raise LifecycleError(
            f"no lead {text!r}: give a lead id (or id:N), email or external id "
            "(`mql handoffs list` shows the leads handed off)"
        )
    if len(ids) > 1 and text.isdigit():
        return int(text)
    return ids[0]


def _id_is(digits: str) -> sa.ColumnElement[bool]:
    """``leads.id == digits``, or false when no id column could hold the number."""
    value = int(digits)
    return leads.c.id == value if value <= MAX_ID else sa.false()


#: Where :func:`lead_info` keeps what it read during the current transaction.
_CACHE_KEY = "mql.lifecycle.lead_info"


def lead_info(conn: Connection, lead_id: int) -> LeadInfo:
    """A lead's identity, consent and merged attributes (read once per transaction)."""
    transaction = conn.get_transaction()
    cached = conn.info.get(_CACHE_KEY)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        conn.info[_CACHE_KEY] = cached
    infos: dict[int, LeadInfo] = cached[1]
    if lead_id not in infos:
        infos[lead_id] = _read_lead_info(conn, lead_id)
    return infos[lead_id]


def _read_lead_info(conn: Connection, lead_id: int) -> LeadInfo:
    query = (
        sa.select(
            leads,
            accounts.c.name.label("account_name"),
            accounts.c.attributes.label("account_attributes"),
        )
        .select_from(leads.outerjoin(accounts, leads.c.account_id == accounts.c.id))
        .where(leads.c.id == lead_id)
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise LifecycleError(f"no lead with id {lead_id}; check the id")
    return LeadInfo(
        id=row["id"],
        email=row["email"],
        external_id=row["external_id"],
        do_not_email=bool(row["do_not_email"]),
        opted_out=bool(row["opted_out"]),
        account_name=row["account_name"],
        attributes=lead_attributes(
            row["attributes"] or {}, row["account_attributes"] or {}
        ),
        created_at=row["created_at"],
    )


class Scorer(Protocol):
    """Gives a lead's score (and its explanation) at an instant."""

    def snapshot(self, conn: Connection, lead_id: int, at: datetime) -> Snapshot:
        """The lead's score at ``at``."""
        ...


class StoredScores:
    """Snapshots read from ``lead_scores`` (score as of its ``as_of``)."""

    def snapshot(self, conn: Connection, lead_id: int, at: datetime) -> Snapshot:
        """The stored score with a summary explanation (fit, grade, group values)."""
        row = (
            conn.execute(sa.select(lead_scores).where(lead_scores.c.lead_id == lead_id))
            .mappings()
            .first()
        )
        if row is None:
            return Snapshot()
        explanation = {
            "source": "stored",
            "as_of": utc_text(row["as_of"]),
            "fit": row["fit"],
            "grade": row["grade"],
            "groups": dict(row["group_values"] or {}),
            "disqualified_reason": row["disqualified_reason"],
        }
        return Snapshot(
            score=row["score"],
            grade=row["grade"],
            mql=bool(row["mql"]),
            mql_until=row["mql_until"],
            last_activity=row["last_activity"],
            as_of=row["as_of"],
            explanation=explanation,
        )
