"""CSV export of handoffs for CRMs; an email export leaves opted-out leads out."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.lifecycle.handoffs import parse_status
from mql.lifecycle.records import utc_text
from mql.store.lifecycle_tables import handoffs
from mql.store.tables import leads

#: Columns of the export, in order; a CRM import maps them by name.
EXPORT_FIELDS = (
    "handoff_id",
    "lead_id",
    "email",
    "external_id",
    "episode",
    "status",
    "score",
    "grade",
    "owner",
    "due_at",
    "created_at",
    "decided_by",
    "do_not_email",
    "opted_out",
)

Purpose = Literal["crm", "email"]


def export_handoffs(
    conn: Connection, purpose: Purpose = "crm", status: str | None = None
) -> str:
    """Handoffs as CSV; ``purpose="email"`` drops leads that may not be emailed.

    Leads with no email address are left out of an email export too; an unknown
    ``status`` is refused with the valid ones.
    """
    wanted = parse_status(status) if status is not None else None
    query = (
        sa.select(
            handoffs.c.id.label("handoff_id"),
            handoffs.c.lead_id,
            leads.c.email,
            leads.c.external_id,
            handoffs.c.episode,
            handoffs.c.status,
            handoffs.c.score,
            handoffs.c.grade,
            handoffs.c.owner,
            handoffs.c.due_at,
            handoffs.c.created_at,
            handoffs.c.decided_by,
            leads.c.do_not_email,
            leads.c.opted_out,
        )
        .join(leads, leads.c.id == handoffs.c.lead_id)
        .order_by(handoffs.c.id)
    )
    if wanted is not None:
        query = query.where(handoffs.c.status == wanted.value)
    if purpose == "email":
        query = query.where(leads.c.email.is_not(None))
        query = query.where(sa.func.trim(leads.c.email) != "")
        query = query.where(leads.c.do_not_email.is_(False))
        query = query.where(leads.c.opted_out.is_(False))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for row in conn.execute(query).mappings():
        writer.writerow([_cell(row[name]) for name in EXPORT_FIELDS])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return utc_text(value)
    return value
