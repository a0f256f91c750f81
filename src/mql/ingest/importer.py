"""Importing leads and events files into the store.

Bad rows never stop a batch: each goes to quarantine with its file, line, field,
reason and raw cells. Problems with the whole file (unreadable, a mapping that
does not fit, timestamps without a declared zone) raise :class:`InputError`
and write nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mql.errors import InputError, StoreError
from mql.ingest.book import (
    STICKY,
    UPDATABLE,
    WRITE_ONCE,
    AccountRecord,
    Book,
    IdentityConflict,
    LeadRecord,
    chunks,
)
from mql.ingest.identity import (
    EmailError,
    account_domain,
    normalise_email,
    registered_domain,
)
from mql.ingest.mapping import Kind, Mapping, load_mapping
from mql.ingest.readers import SourceRow, read_source
from mql.ingest.rows import Plan, Prepared, Problem, plan, prepare
from mql.ingest.values import Reader
from mql.store.reads import ACCOUNT_PREFIX
from mql.store.store import Store
from mql.store.tables import events, import_runs, quarantine

logger = logging.getLogger(__name__)

#: Called as progress(rows_done, rows_total) while a file is read.
ProgressCallback = Callable[[int, int], None]
#: Rows between two progress calls.
PROGRESS_EVERY = 2_000
#: Keys per array parameter on PostgreSQL.
PG_ANY_CHUNK = 20_000
#: Rows per bulk INSERT statement.
INSERT_CHUNK = 5_000
#: When this many first rows of a file all fail on the same field for the same
#: reason, the file is refused as a whole: the mapping does not fit it.
EARLY_ROWS = 20


@dataclass
class ImportReport:
    """What one import did: counts, notes, and the leads it touched."""

    kind: str
    file: str
    run_id: int | None = None
    read: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    quarantined: int = 0
    #: Rejected rows already kept in quarantine by an earlier import of the file.
    already_quarantined: int = 0
    leads_created: int = 0
    accounts_created: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    touched_leads: set[int] = field(default_factory=set, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data (without the touched lead ids)."""
        data = asdict(self)
        data.pop("touched_leads")
        return data


@dataclass
class _Run:
    """What an import carries from step to step."""

    store: Store
    path: Path
    kind: Kind
    report: ImportReport
    now: datetime
    strict: bool
    problems: list[Problem] = field(default_factory=list)
    #: The mapping's event_key columns, if it names them.
    key_columns: tuple[str, ...] | None = None
    #: The lines of the file's first rows (for the early refusal).
    first_lines: list[int] = field(default_factory=list)
    #: None while cells are read, the import's transaction afterwards.
    connection: Connection | None = None

    @property
    def conn(self) -> Connection:
        """The import's connection, inside its transaction."""
        assert self.connection is not None, "the import's transaction is not open"
        return self.connection

    def reject(self, problem: Problem) -> None:
        """Set a row aside for quarantine (with --strict: for the error)."""
        self.problems.append(problem)

    def refuse_if_strict(self) -> None:
        """With --strict, stop on the first bad row in file order."""
        if not self.strict or not self.problems:
            return
        first = min(self.problems, key=lambda p: p.line)
        where = f" field {first.field!r}:" if first.field else ""
        raise InputError(
            f"{self.path}:{first.line}:{where} {first.reason} (strict import: "
            "nothing was imported; drop --strict to quarantine bad rows instead)"
        )


def import_leads(
    store: Store,
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a leads file (CSV/TSV, JSON Lines, Parquet); see docs/import.md."""
    return _import(store, Path(path), "leads", mapping, strict, progress)


def import_events(
    store: Store,
    path: str | Path,
    mapping: Mapping | str | Path | None = None,
    strict: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import an events file; unknown leads are created from their email or id."""
    return _import(store, Path(path), "events", mapping, strict, progress)


def _import(
    store: Store,
    path: Path,
    kind: Kind,
    mapping: Mapping | str | Path | None,
    strict: bool,
    progress: ProgressCallback | None,
) -> ImportReport:
    started = time.perf_counter()
    resolved = _resolve_mapping(mapping)
    source = read_source(path, resolved)
    plan_ = replace(plan(source, resolved, kind), mapped=mapping is not None)
    _require_identity(plan_, path, kind)
    report = ImportReport(kind=kind, file=str(path), notes=list(source.notes))
    report.read = len(source.rows)
    # Cells are read before the transaction opens, so the write lock is short.
    checker = _Run(store, path, kind, report, datetime.now(UTC), strict)
    checker.key_columns = resolved.event_key
    prepared = _prepare_all(checker, source.rows, plan_, Reader(resolved), progress)
    _refuse_if_nothing_fits(checker, plan_)
    try:
        with store.begin() as conn:
            run = replace(checker, connection=conn)
            report.run_id = _start_run(conn, run)
            if kind == "leads":
                _merge_leads(run, prepared)
            else:
                _merge_events(run, prepared)
            run.refuse_if_strict()
            _write_quarantine(run)
            report.seconds = time.perf_counter() - started
            _finish_run(conn, run)
    except sa.exc.IntegrityError as exc:
        raise StoreError(
            f"{path}: another import wrote the same leads or events at the same "
            f"time ({exc.orig}); nothing was imported from this file. Run the "
            "import again: it is idempotent"
        ) from exc
    _log(report, path)
    return report


def _prepare_all(
    run: _Run,
    rows: list[SourceRow],
    plan_: Plan,
    reader: Reader,
    progress: ProgressCallback | None,
) -> list[Prepared]:
    """Every row read as its fields; unreadable rows are set aside for quarantine."""
    prepared: list[Prepared] = []
    total = len(rows)
    run.first_lines = [row.line for row in rows[:EARLY_ROWS]]
    for done, row in enumerate(rows, start=1):
        item = prepare(row, plan_, reader, run.kind, str(run.path))
        if isinstance(item, Problem):
            run.reject(item)
        else:
            prepared.append(item)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return prepared


def _refuse_if_nothing_fits(run: _Run, plan_: Plan) -> None:
    """Refuse the file when its first EARLY_ROWS rows all fail the same way."""
    first = [p for p in run.problems if p.line <= _line_of_row(run, EARLY_ROWS)]
    if run.report.read < EARLY_ROWS or len(first) < EARLY_ROWS:
        return
    shapes = {(p.field, _shape(p.reason)) for p in first}
    problem = first[0]
    name = problem.field
    if len(shapes) != 1 or name is None:
        return
    column = plan_.fields.get(name) or plan_.extra.get(name)
    is_date = column is not None and (
        column.type == "datetime" or name in DATETIME_FIELDS
    )
    fix = DATE_FIX if is_date else "fix the mapping (see docs/import.md)"
    raise InputError(
        f"{run.path}: each of the first {EARLY_ROWS} rows fails on field "
        f"{problem.field!r} the same way, so the mapping does not fit the file "
        f"(line {problem.line}: {problem.reason}). Nothing was imported; {fix}"
    )


#: The fields read as date and time.
DATETIME_FIELDS = frozenset(("at", "converted_at", "created_at"))
#: How to declare a date format, for the file-level error.
DATE_FIX = (
    "declare the dates' format in a mapping file passed with --mapping FILE, e.g. "
    "the line `date_format: '%d/%m/%Y %H:%M'` (a strptime pattern), "
    "`day_first: true`, or `date_format: excel` for Excel serial numbers; "
    "see docs/import.md"
)


def _line_of_row(run: _Run, count: int) -> int:
    """The line of the count-th row read (rows without problems included)."""
    return run.first_lines[count - 1] if len(run.first_lines) >= count else 0


def _shape(reason: str) -> str:
    """A reason with its quoted values blanked, so that two rows failing the same
    way compare equal."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)


def _log(report: ImportReport, path: Path) -> None:
    logger.info(
        "imported %s from %s: read %d, imported %d, updated %d, duplicates %d, "
        "quarantined %d, new leads %d, in %.2fs (run %s)",
        report.kind,
        path.name,
        report.read,
        report.imported,
        report.updated,
        report.duplicates,
        report.quarantined,
        report.leads_created,
        report.seconds,
        report.run_id,
    )


def _resolve_mapping(mapping: Mapping | str | Path | None) -> Mapping:
    if mapping is None:
        return Mapping()
    if isinstance(mapping, Mapping):
        return mapping
    return load_mapping(mapping)


def _require_identity(plan_: Plan, path: Path, kind: Kind) -> None:
    if "email" not in plan_.fields and "external_id" not in plan_.fields:
        raise InputError(
            f"{path}: no column identifies the lead; map one under fields: as "
            "email: COLUMN or external_id: COLUMN (see docs/import.md)"
        )
    if kind == "events":
        for name in ("type", "at"):
            if name not in plan_.fields:
                raise InputError(
                    f"{path}: no column gives the event {name!r}; map one under "
                    f"fields: as {name}: COLUMN"
                )


# -- runs and quarantine -------------------------------------------------------


def _start_run(conn: Connection, run: _Run) -> int:
    result = conn.execute(
        import_runs.insert().values(
            kind=run.kind,
            file=str(run.path),
            started_at=run.now,
            status="running",
            read=0,
            imported=0,
            updated=0,
            duplicates=0,
            quarantined=0,
            notes=[],
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _finish_run(conn: Connection, run: _Run) -> None:
    report = run.report
    conn.execute(
        import_runs.update()
        .where(import_runs.c.id == report.run_id)
        .values(
            finished_at=datetime.now(UTC),
            status="done",
            read=report.read,
            imported=report.imported,
            updated=report.updated,
            duplicates=report.duplicates,
            quarantined=report.quarantined,
            notes=report.notes,
        )
    )


def _write_quarantine(run: _Run) -> None:
    """Keep the rejected rows, except those an earlier import of the file kept."""
    rows = [
        {
            "import_run_id": run.report.run_id,
            "file": str(run.path),
            "line": p.line,
            "field": p.field,
            "reason": p.reason,
            "raw": _json_safe(p.raw),
            "created_at": run.now,
        }
        for p in run.problems
    ]
    kept = _kept_entries(run.conn, str(run.path)) if rows else set()
    fresh = []
    for row in rows:
        if _entry_key(row) in kept:
            run.report.already_quarantined += 1
            continue
        kept.add(_entry_key(row))
        fresh.append(row)
    run.report.quarantined = len(fresh)
    for part in chunks(fresh, INSERT_CHUNK):
        run.conn.execute(quarantine.insert(), list(part))


_EntryKey = tuple[int | None, str | None, str, str]


def _entry_key(row: Any) -> _EntryKey:
    """What makes two quarantine entries of one file the same entry."""
    raw = json.dumps(row["raw"], sort_keys=True, default=str)
    return (row["line"], row["field"], row["reason"], raw)


def _kept_entries(conn: Connection, file: str) -> set[_EntryKey]:
    """The quarantine entries already kept for this file."""
    query = sa.select(
        quarantine.c.line, quarantine.c.field, quarantine.c.reason, quarantine.c.raw
    ).where(quarantine.c.file == file)
    return {_entry_key(row._mapping) for row in conn.execute(query)}


_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_safe(value: Any) -> Any:
    """The value with anything JSON cannot hold (datetimes, ...) as text."""
    if isinstance(value, dict) and all(
        isinstance(v, _JSON_SCALARS) for v in value.values()
    ):
        return value
    return json.loads(json.dumps(value, default=str))


# -- identity --------------------------------------------------------------------


def _identity(item: Prepared) -> tuple[str | None, str | None]:
    """The row's normalised email and external id; raises EmailError."""
    email = item.fields.get("email")
    external_id = item.fields.get("external_id")
    normalised = normalise_email(str(email)) if email is not None else None
    return normalised, (str(external_id) if external_id is not None else None)


def _identify(
    run: _Run, prepared: list[Prepared]
) -> list[tuple[Prepared, str | None, str | None]]:
    """Rows with their identities; rows with a bad or no identity go to quarantine."""
    out = []
    for item in prepared:
        try:
            email, external_id = _identity(item)
        except EmailError as exc:
            run.reject(Problem(item.line, "email", str(exc), item.raw))
            continue
        if email is None and external_id is None:
            run.reject(
                Problem(
                    item.line,
                    "email",
                    "the row has neither an email nor an external id; nothing "
                    "identifies the lead",
                    item.raw,
                )
            )
            continue
        out.append((item, email, external_id))
    return out


def _load_book(run: _Run, rows: list[tuple[Prepared, str | None, str | None]]) -> Book:
    book = Book(run.conn, run.now, run.report.run_id or 0)
    emails = [e for _, e, _ in rows if e]
    book.load(
        emails=emails,
        external_ids=[x for _, _, x in rows if x],
        domains=[d for d in map(account_domain, emails) if d]
        + [
            d
            for i, _, _ in rows
            if i.fields.get("account_domain")
            and (d := registered_domain(str(i.fields["account_domain"])))
        ],
        account_ids=[
            str(i.fields["account_external_id"])
            for i, _, _ in rows
            if i.fields.get("account_external_id")
        ],
    )
    return book


def _lead_for(
    run: _Run, book: Book, item: Prepared, email: str | None, external_id: str | None
) -> tuple[LeadRecord, bool] | None:
    """The row's lead and whether it is new; None (and quarantine) on a conflict."""
    try:
        record = book.find_lead(email, external_id)
    except IdentityConflict as exc:
        run.reject(Problem(item.line, "email", str(exc), item.raw))
        return None
    if record is None:
        return book.new_lead(email, external_id), True
    book.fill_identity(record, email, external_id)
    return record, False


# -- leads -------------------------------------------------------------------------


def _merge_leads(run: _Run, prepared: list[Prepared]) -> None:
    rows = _identify(run, prepared)
    book = _load_book(run, rows)
    touched: dict[int, LeadRecord] = {}
    for item, email, external_id in rows:
        found = _lead_for(run, book, item, email, external_id)
        if found is None:
            continue
        record, is_new = found
        changed = _apply_lead_row(record, item)
        changed |= _attach_account(record, _row_account(book, item, email), item)
        if is_new:
            run.report.imported += 1
        elif changed:
            record.dirty = True
            run.report.updated += 1
        else:
            run.report.duplicates += 1
            continue
        touched[id(record)] = record
    book.flush()
    run.report.accounts_created = len(book.new_accounts)
    run.report.leads_created = len(book.new_leads)
    run.report.touched_leads = {r.id for r in touched.values() if r.id is not None}
    run.report.touched_leads |= book.leads_of_changed_accounts()


def _row_account(book: Book, item: Prepared, email: str | None) -> AccountRecord | None:
    """The account a leads row names (id or website), else its email's domain."""
    website = item.fields.get("account_domain")
    domain = registered_domain(str(website)) if website else None
    if domain is None and email:
        domain = account_domain(email)
    external = item.fields.get("account_external_id")
    return book.account(domain, str(external) if external is not None else None)


def _apply_lead_row(record: LeadRecord, item: Prepared) -> bool:
    """Merge one row into a lead: fill and update, never erase or overwrite
    the write-once sources; True if anything changed."""
    changed = False
    for name in WRITE_ONCE:
        value = item.fields.get(name)
        if value is not None and record.values.get(name) is None:
            record.values[name] = value
            changed = True
    for name in STICKY:
        if item.fields.get(name) and not record.values.get(name):
            record.values[name] = True
            changed = True
    for name in UPDATABLE:
        value = item.fields.get(name)
        if value is not None and record.values.get(name) != value:
            record.values[name] = value
            changed = True
    for key, value in item.extra.items():
        if key.startswith(ACCOUNT_PREFIX):
            continue
        if record.attributes.get(key) != value:
            record.attributes[key] = value
            changed = True
    return changed


def _attach_account(
    record: LeadRecord, account: AccountRecord | None, item: Prepared
) -> bool:
    """Give the lead its account and the row's account fields; True if either
    changed (an account's fields are part of its leads' scoring attributes)."""
    changed = False
    if account is not None and record.account is None:
        record.account = account
        changed = True
    target = record.account
    if target is None:
        return changed
    name = item.fields.get("account_name")
    if name is not None and target.name != name:
        target.name = name
        changed = True
    for key, value in item.extra.items():
        short = key.removeprefix(ACCOUNT_PREFIX)
        if short != key and target.attributes.get(short) != value:
            target.attributes[short] = value
            changed = True
    target.dirty |= changed and target.id is not None
    return changed


# -- events ------------------------------------------------------------------------


def _merge_events(run: _Run, prepared: list[Prepared]) -> None:
    rows = _identify(run, prepared)
    book = _load_book(run, rows)
    pending: list[tuple[LeadRecord, dict[str, Any]]] = []
    seen: set[str] = set()
    for item, email, external_id in rows:
        if item.fields.get("type") is None or item.fields.get("at") is None:
            missing = "type" if item.fields.get("type") is None else "at"
            run.reject(
                Problem(item.line, missing, f"the event has no {missing}", item.raw)
            )
            continue
        found = _lead_for(run, book, item, email, external_id)
        if found is None:
            continue
        record, is_new = found
        if is_new and email:
            record.account = book.account(account_domain(email), None)
        key = _event_key(item, run.key_columns)
        if key in seen:
            run.report.duplicates += 1
            continue
        seen.add(key)
        pending.append((record, _event_row(item, key, run)))
    run.report.leads_created = len(book.new_leads)
    run.report.accounts_created = len(book.new_accounts)
    book.flush()
    _insert_events(run, pending)


def _event_key(item: Prepared, key_columns: tuple[str, ...] | None) -> str:
    """The source's event id; else a hash of the raw text of the mapping's
    ``event_key`` columns; else a hash of every cell of the row as read.

    Raw text, not typed values: importing a file again with a corrected mapping
    (decimal mark, a column's type, a new extra column) finds the same events.
    """
    event_id = item.fields.get("event_id")
    if event_id is not None:
        return f"id:{event_id}"
    if key_columns is not None:
        body: Any = ["columns", {c: _raw_text(item.cells.get(c)) for c in key_columns}]
    else:
        body = ["row", {c: _raw_text(v) for c, v in item.cells.items()}]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _raw_text(value: Any) -> str | None:
    """A cell as text, trimmed; None for an absent or blank cell."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.strip() or None


def _event_row(item: Prepared, key: str, run: _Run) -> dict[str, Any]:
    return {
        "event_key": key,
        "type": str(item.fields["type"]),
        "at": item.fields["at"],
        "properties": _json_safe(item.extra),
        "import_run_id": run.report.run_id,
    }


def _insert_events(run: _Run, pending: list[tuple[LeadRecord, dict[str, Any]]]) -> None:
    existing = _existing_keys(run.conn, [row["event_key"] for _, row in pending])
    fresh = []
    for record, row in pending:
        if row["event_key"] in existing:
            run.report.duplicates += 1
            continue
        assert record.id is not None
        fresh.append({**row, "lead_id": record.id})
        run.report.touched_leads.add(record.id)
    statement = _insert_ignoring_duplicates(run.conn)
    for part in chunks(fresh, INSERT_CHUNK):
        run.conn.execute(statement, list(part))
    run.report.imported = len(fresh)


def _existing_keys(conn: Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    if conn.dialect.name == "postgresql":
        # One array parameter: PostgreSQL plans "= ANY($1)" once, not a long IN list.
        wanted = sa.bindparam("keys", type_=postgresql.ARRAY(sa.String))
        query = sa.select(events.c.event_key).where(
            events.c.event_key == sa.any_(wanted)
        )
        for part in chunks(keys, PG_ANY_CHUNK):
            found.update(conn.execute(query, {"keys": list(part)}).scalars())
        return found
    for part in chunks(keys):
        query = sa.select(events.c.event_key).where(events.c.event_key.in_(part))
        found.update(conn.execute(query).scalars())
    return found


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    """An INSERT that skips events already stored (a concurrent import's)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(events).on_conflict_do_nothing(
            index_elements=["event_key"]
        )
    if conn.dialect.name == "sqlite":
        return sqlite.insert(events).on_conflict_do_nothing(
            index_elements=["event_key"]
        )
    return events.insert()
