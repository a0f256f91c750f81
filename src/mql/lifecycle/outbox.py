"""The transactional outbox: a message per move, written in the move's transaction.

The dispatcher (:mod:`mql.lifecycle.dispatch`) delivers them later; nothing here
talks to the network, so a move never waits on a receiver.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.lifecycle.leads import lead_info
from mql.lifecycle.records import utc_text
from mql.store.lifecycle_tables import outbox_messages

#: Version of the payload shape; receivers can switch on it.
PAYLOAD_VERSION = 1


def enqueue(
    conn: Connection,
    kind: str,
    lead_id: int,
    at: datetime,
    data: Mapping[str, Any],
) -> str:
    """Write one outbound message about ``lead_id``; returns its id.

    Every payload carries the lead's consent (do-not-email, opted out), so a
    receiver never emails someone who asked not to be.
    """
    message_id = str(uuid.uuid4())
    payload = {
        "id": message_id,
        "version": PAYLOAD_VERSION,
        "kind": kind,
        "at": utc_text(at),
        "lead": lead_info(conn, lead_id).summary(),
        "data": _plain(dict(data)),
    }
    conn.execute(
        sa.insert(outbox_messages).values(
            id=message_id, kind=kind, lead_id=lead_id, created_at=at, payload=payload
        )
    )
    return message_id


def _plain(value: Any) -> Any:
    """JSON-ready values: instants and dates as ISO text, decimals as text."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return utc_text(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
