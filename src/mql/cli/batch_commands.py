"""``mql rescore`` and ``mql backtest``: thin commands over :mod:`mql.batch`.

Mount them on the main application with :func:`register`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import sqlalchemy as sa
import typer
from rich.console import Console

from mql.batch import ENGINES
from mql.batch.backtest import Months, shown_instant
from mql.batch.engines import ENGINE_ENV, URL_ENV
from mql.cli.errors import reports_errors
from mql.cli.output import OutputFormat, emit, to_csv, to_json
from mql.cli.times import AT_HELP, at_parser, now
from mql.errors import InputError
from mql.model import load_model
from mql.settings import Settings
from mql.store import Store
from mql.store.tables import leads as leads_t

RESCORE_FIELDS = (
    "engine",
    "at",
    "leads",
    "events",
    "mqls",
    "gained",
    "lost",
    "seconds",
)
PERIOD_FIELDS = ("period_end", "model", "mqls", "gained", "lost")
OUTCOME_FIELDS = (
    "model",
    "converted",
    "converted_from_start",
    "converted_were_mql",
    "median_days_earlier",
    "mean_days_earlier",
    "mqls",
    "mqls_never_converted",
)
#: Days per unit of ``--every``; months and quarters are calendar months.
EVERY_DAYS = {"d": 1, "day": 1, "w": 7, "week": 7}
EVERY_MONTHS = {"month": 1, "quarter": 3}
EVERY_HELP = (
    "The step between period ends: day, week, month, quarter, or a count such as "
    "3d, 2w, 2month. Months are calendar months: each end falls on the --from "
    "day of the month, or on the month's last day when it is shorter."
)

EngineOption = Annotated[
    str,
    typer.Option(
        "--engine",
        envvar=ENGINE_ENV,
        show_envvar=False,
        help=f"Where to run: {', '.join(ENGINES)} (or set ${ENGINE_ENV}).",
    ),
]
EngineUrlOption = Annotated[
    str | None,
    typer.Option(
        "--engine-url",
        envvar=URL_ENV,
        show_envvar=False,
        help="PostgreSQL URL for --engine postgres; Spark master for --engine spark "
        "(default local[1]); a DuckDB file for --engine duckdb (default in memory). "
        f"Default: ${URL_ENV}.",
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
]


def parse_every(text: str) -> timedelta | Months:
    """``day``, ``week``, ``month``, ``quarter``, or a count such as ``3d``, ``2w``
    or ``2months``, as a period.

    >>> parse_every("2w")
    datetime.timedelta(days=14)
    >>> parse_every("quarter")
    Months(count=3)
    """
    units = "|".join([*EVERY_DAYS, *EVERY_MONTHS])
    found = re.fullmatch(rf"\s*(\d*)\s*({units})s?\s*", text.lower())
    if found is None or int(found.group(1) or 1) == 0:
        raise InputError(
            f"--every {text!r} is not a period; use day, week, month, quarter, or a "
            "count such as 3d, 2w or 2month"
        )
    count, unit = int(found.group(1) or 1), found.group(2)
    if unit in EVERY_MONTHS:
        return Months(count * EVERY_MONTHS[unit])
    return timedelta(days=count * EVERY_DAYS[unit])


def _note(text: str) -> None:
    """A note on standard error, apart from the output."""
    Console(stderr=True, soft_wrap=True).print(
        f"note: {text}", markup=False, highlight=False
    )


def _empty_store_note(leads: int, events: int, at: datetime) -> None:
    """Say so when the store has nothing to score, rather than print zeros alone."""
    if leads == 0:
        _note(
            "the store has no leads, so every count is 0; import them with "
            "`mql import leads` and their events with `mql import events` "
            "(see docs/import.md)"
        )
    elif events == 0:
        _note(
            f"the store has no events up to {shown_instant(at)}, so scores are fit "
            "only and intent is 0; import them with `mql import events` "
            "(see docs/import.md)"
        )


def _root(ctx: typer.Context) -> Any:
    return ctx.find_root().obj


@contextmanager
def _store(ctx: typer.Context) -> Iterator[Store]:
    from mql.workspace import open_workspace

    db = getattr(_root(ctx), "db", None) or Settings.from_env().database_url
    store = open_workspace(db)
    try:
        yield store
    finally:
        store.close()


def _console(ctx: typer.Context) -> Console:
    console = getattr(_root(ctx), "console", None)
    return console if isinstance(console, Console) else Console(soft_wrap=False)


@reports_errors
def rescore(
    ctx: typer.Context,
    at: Annotated[
        datetime | None,
        typer.Option("--at", parser=at_parser, help=AT_HELP, metavar="DATE|TIMESTAMP"),
    ] = None,
    engine: EngineOption = "duckdb",
    engine_url: EngineUrlOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Rescore every lead with the batch engine and store the states.

    The stored states hold the events up to --at only: with a past --at, `mql
    mqls`, `mql score` and the lifecycle read those states (at their own --at, now
    by default) without the later events until the next rescore; run `mql rescore`
    without --at to bring them back to now.

    Example: mql rescore --at 2025-03-31 --engine duckdb
    """
    from mql.batch.store_io import rescore_store
    from mql.cli.app import warn_missing_reads

    model = load_model(getattr(_root(ctx), "model", None) or Path("mql.yaml"))
    started = now()
    with _store(ctx) as store:
        report = rescore_store(store, model, at or started, engine, engine_url)
        warn_missing_reads(store, model)
    _empty_store_note(report.leads, report.events, report.at)
    if at is not None and at < started:
        _note(
            f"the stored states now hold the events up to {shown_instant(at)}, a "
            "past instant, and no later ones: `mql mqls` and `mql score` read them "
            "(at their own --at, now by default) without those events; run `mql "
            "rescore` without --at to bring them back to now"
        )
    emit(_console(ctx), [report.to_dict()], RESCORE_FIELDS, fmt, title="Rescore")


@reports_errors
def backtest(
    ctx: typer.Context,
    start: Annotated[
        datetime,
        typer.Option(
            "--from", parser=at_parser, metavar="DATE", help="The first period end."
        ),
    ],
    end: Annotated[
        datetime,
        typer.Option(
            "--to",
            parser=at_parser,
            metavar="DATE",
            help="The last period end. Period ends run from --from by --every while "
            "before --to, then --to itself, so the last period is shorter when "
            "--every does not divide the range.",
        ),
    ],
    new: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="The model to try (YAML). Default: the model given before the "
            "command (mql --model M.yaml backtest ...), else mql.yaml.",
            show_default=False,
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="The current model, to compare with."),
    ] = None,
    every: Annotated[str, typer.Option("--every", help=EVERY_HELP)] = "week",
    engine: EngineOption = "duckdb",
    engine_url: EngineUrlOption = None,
    outcomes: Annotated[
        bool, typer.Option("--outcomes", help="With --format csv: the outcome rows.")
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Replay history: MQLs per period under each model, and how they converted.

    Example: mql backtest --model new.yaml --against mql.yaml --from 2025-01-01
    --to 2025-06-30 --every week
    """
    from mql.batch import connect
    from mql.batch.backtest import backtest as run_backtest
    from mql.batch.backtest import period_ends
    from mql.batch.store_io import read_store
    from mql.cli.app import warn_missing_reads

    new = new or getattr(_root(ctx), "model", None) or Path("mql.yaml")
    models = {new.stem: load_model(new)}
    if against is not None:
        models[f"{against.stem} (current)"] = load_model(against)
    ends = period_ends(start, end, parse_every(every), every.strip())
    backend = connect(engine, engine_url)
    with _store(ctx) as store:
        events, leads = read_store(store, list(models.values()), ends[-1])
        undated = _converted_without_date(store)
        for path in [new, *([against] if against is not None else [])]:
            warn_missing_reads(store, load_model(path), source=path)
    # The store's event keys are unique: no copies to drop.
    result = run_backtest(models, events, leads, ends, backend, dedupe=False)
    _empty_store_note(leads.num_rows, events.num_rows, ends[-1])
    _conversion_notes(leads, undated)
    periods = [asdict(row) for row in result.periods]
    rows = [asdict(row) for row in result.outcomes]
    console = _console(ctx)
    if fmt is OutputFormat.json:
        body = {
            "periods": json.loads(to_json(periods, PERIOD_FIELDS)),
            "outcomes": json.loads(to_json(rows, OUTCOME_FIELDS)),
        }
        console.out(json.dumps(body, indent=2), highlight=False)
    elif fmt is OutputFormat.csv:
        listing = (rows, OUTCOME_FIELDS) if outcomes else (periods, PERIOD_FIELDS)
        console.out(to_csv(*listing), end="", highlight=False)
    else:
        emit(console, periods, PERIOD_FIELDS, fmt, title="MQLs per period")
        emit(console, rows, OUTCOME_FIELDS, fmt, title="Outcomes")


def _converted_without_date(store: Store) -> int:
    """Leads marked converted whose conversion date is unknown."""
    query = (
        sa.select(sa.func.count())
        .select_from(leads_t)
        .where(leads_t.c.converted.is_(True), leads_t.c.converted_at.is_(None))
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _conversion_notes(leads: pa.Table, undated: int) -> None:
    """Say why outcome counts are empty or short of the leads marked converted."""
    dated = leads.num_rows - leads.column("converted_at").null_count
    without = (
        f"{undated:,} lead{'s are' if undated != 1 else ' is'} marked converted "
        "without a conversion date, which a backtest cannot place in time"
    )
    if leads.num_rows and not dated:
        because = f"; {without}" if undated else ""
        _note(
            f"no lead has a conversion date, so the outcome counts are 0{because}; "
            "import one with the leads (`converted_at`, see docs/import.md) to "
            "compare MQLs with conversions"
        )
    elif undated:
        _note(
            f"{without}: the outcomes count them as not converted; import their "
            "`converted_at` with the leads (see docs/import.md)"
        )


def register(app: typer.Typer) -> None:
    """Mount ``rescore`` and ``backtest`` on the main application."""
    app.command("rescore")(rescore)
    app.command("backtest")(backtest)
