"""Reading back the rows that imports could not accept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from mql.store.store import Store
from mql.store.tables import quarantine


@dataclass(frozen=True)
class QuarantineRow:
    """One rejected row: where it was, which field, why, and the row as read."""

    id: int
    import_run_id: int | None
    file: str
    line: int | None
    field: str | None
    reason: str
    raw: Any
    created_at: datetime


def list_quarantine(
    store: Store, run_id: int | None = None, limit: int | None = None
) -> list[QuarantineRow]:
    """Quarantined rows in file and line order, of one import run or all."""
    query = sa.select(quarantine).order_by(
        quarantine.c.import_run_id, quarantine.c.file, quarantine.c.line
    )
    if run_id is not None:
        query = query.where(quarantine.c.import_run_id == run_id)
    if limit is not None:
        query = query.limit(limit)
    with store.engine.connect() as conn:
        return [
            QuarantineRow(
                id=row.id,
                import_run_id=row.import_run_id,
                file=row.file,
                line=row.line,
                field=row.field,
                reason=row.reason,
                raw=row.raw,
                created_at=row.created_at,
            )
            for row in conn.execute(query)
        ]
