"""Reading back the rows that imports could not accept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from mql.errors import InputError
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
    store: Store,
    run_id: int | None = None,
    limit: int | None = None,
    file: str | Path | None = None,
) -> list[QuarantineRow]:
    """Quarantined rows in file and line order: all, or of one run or file."""
    query = sa.select(quarantine).order_by(
        quarantine.c.import_run_id, quarantine.c.file, quarantine.c.line
    )
    for condition in _filters(run_id, file):
        query = query.where(condition)
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


def clear_quarantine(
    store: Store,
    run_id: int | None = None,
    file: str | Path | None = None,
    all_entries: bool = False,
) -> int:
    """Delete the quarantine entries of one run or file (or all, on request);
    returns how many were deleted."""
    conditions = _filters(run_id, file)
    if all_entries == bool(conditions):
        raise InputError(
            "say which entries to clear: --file PATH or --run N, or --all for "
            "every entry (not --all with the others)"
        )
    statement = quarantine.delete()
    for condition in conditions:
        statement = statement.where(condition)
    with store.begin() as conn:
        return int(conn.execute(statement).rowcount)


def _filters(run_id: int | None, file: str | Path | None) -> list[Any]:
    """The WHERE conditions of a run and a file (as given to the import)."""
    conditions: list[Any] = []
    if run_id is not None:
        conditions.append(quarantine.c.import_run_id == run_id)
    if file is not None:
        conditions.append(quarantine.c.file == str(file))
    return conditions
