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
ACCOUNT_PREFIX = "account."


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
    #: None while cells are read, the import's transaction afterwards.
    connection: Connection | None = None

    @property
    def conn(self) -> Connection:
        """The import's connection, inside its transaction."""
        assert self.connection is not None, "the import's transaction is not open"
        return self.connection

    def reject(self, problem: Problem) -> None:
        if self.strict:
            where = f" field {problem.field!r}:" if problem.field else ""
            raise InputError(
                f"{self.path}:{problem.line}:{where} {problem.reason} (strict import: "
                "nothing was imported; drop --strict to quarantine bad rows instead)"
            )
        self.problems.append(problem)


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
    plan_ = plan(source, resolved, kind)
    _require_identity(plan_, path, kind)
    report = ImportReport(kind=kind, file=str(path), notes=list(source.notes))
    report.read = len(source.rows)
    # Cells are read before the transaction opens, so the write lock is short.
    checker = _Run(store, path, kind, report, datetime.now(UTC), strict)
    prepared = _prepare_all(checker, source.rows, plan_, Reader(resolved), progress)
    try:
        with store.begin() as conn:
            run = replace(checker, connection=conn)
            report.run_id = _start_run(conn, run)
            if kind == "leads":
                _merge_leads(run, prepared)
            else:
                _merge_events(run, prepared)
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
    for done, row in enumerate(rows, start=1):
        item = prepare(row, plan_, reader, run.kind, str(run.path))
        if isinstance(item, Problem):
            run.reject(item)
        else:
            prepared.append(item)
        if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    return prepared


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
    run.report.quarantined = len(run.problems)
    if not run.problems:
        return
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
    for part in chunks(rows, INSERT_CHUNK):
        run.conn.execute(quarantine.insert(), list(part))


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
        key = _event_key(item, email, external_id)
        if key in seen:
            run.report.duplicates += 1
            continue
        seen.add(key)
        pending.append((record, _event_row(item, key, run)))
    run.report.leads_created = len(book.new_leads)
    run.report.accounts_created = len(book.new_accounts)
    book.flush()
    _insert_events(run, pending)


def _event_key(item: Prepared, email: str | None, external_id: str | None) -> str:
    """The source's event id, or a hash of lead, type, time and properties."""
    event_id = item.fields.get("event_id")
    if event_id is not None:
        return f"id:{event_id}"
    who = f"email:{email}" if email else f"external_id:{external_id}"
    at = item.fields["at"].astimezone(UTC).isoformat()
    body = json.dumps(
        [who, item.fields["type"], at, item.extra],
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


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
