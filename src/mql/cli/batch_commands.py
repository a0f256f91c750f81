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

import typer
from rich.console import Console

from mql.batch import ENGINES
from mql.cli.errors import reports_errors
from mql.cli.output import OutputFormat, emit, to_csv, to_json
from mql.cli.times import AT_HELP, at_parser, now
from mql.errors import InputError
from mql.model import load_model
from mql.settings import Settings
from mql.store import Store

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
    "converted_were_mql",
    "median_days_earlier",
    "mean_days_earlier",
    "mqls",
    "mqls_never_converted",
)
EVERY_UNITS = {"d": 1, "day": 1, "w": 7, "week": 7}

EngineOption = Annotated[
    str,
    typer.Option("--engine", help=f"Where to run: {', '.join(ENGINES)}."),
]
EngineUrlOption = Annotated[
    str | None,
    typer.Option(
        "--engine-url",
        help="PostgreSQL URL for --engine postgres; Spark master for --engine spark "
        "(default local[1]); a DuckDB file for --engine duckdb (default in memory).",
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="table, csv or json.")
]


def parse_every(text: str) -> timedelta:
    """``day``, ``week``, ``3d`` or ``2w`` as a period.

    >>> parse_every("2w")
    datetime.timedelta(days=14)
    """
    found = re.fullmatch(r"\s*(\d*)\s*(d|day|w|week)s?\s*", text.lower())
    if found is None or found.group(1) == "0":
        raise InputError(
            f"--every {text!r} is not a period; use day, week, or a count such as "
            "3d or 2w"
        )
    count = int(found.group(1) or 1)
    return timedelta(days=count * EVERY_UNITS[found.group(2)])


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

    Example: mql rescore --at 2025-03-31 --engine duckdb
    """
    from mql.batch.store_io import rescore_store

    model = load_model(getattr(_root(ctx), "model", None) or Path("mql.yaml"))
    with _store(ctx) as store:
        report = rescore_store(store, model, at or now(), engine, engine_url)
    emit(_console(ctx), [report.to_dict()], RESCORE_FIELDS, fmt, title="Rescore")


@reports_errors
def backtest(
    ctx: typer.Context,
    new: Annotated[Path, typer.Option("--model", help="The model to try (YAML).")],
    start: Annotated[
        datetime,
        typer.Option(
            "--from", parser=at_parser, metavar="DATE", help="First period end."
        ),
    ],
    end: Annotated[
        datetime,
        typer.Option("--to", parser=at_parser, metavar="DATE", help="Last period end."),
    ],
    against: Annotated[
        Path | None,
        typer.Option("--against", help="The current model, to compare with."),
    ] = None,
    every: Annotated[
        str, typer.Option("--every", help="day, week, 3d, 2w...")
    ] = "week",
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

    models = {new.stem: load_model(new)}
    if against is not None:
        models[f"{against.stem} (current)"] = load_model(against)
    ends = period_ends(start, end, parse_every(every))
    with _store(ctx) as store:
        events, leads = read_store(store, list(models.values()), ends[-1])
    backend = connect(engine, engine_url)
    # The store's event keys are unique: no copies to drop.
    result = run_backtest(models, events, leads, ends, backend, dedupe=False)
    if leads.num_rows and leads.column("converted_at").null_count == leads.num_rows:
        Console(stderr=True).print(
            "note: no lead has a conversion date, so the outcome counts are 0; import "
            "one with the leads (`converted_at`, see docs/import.md) to compare MQLs "
            "with conversions",
            markup=False,
            highlight=False,
        )
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


def register(app: typer.Typer) -> None:
    """Mount ``rescore`` and ``backtest`` on the main application."""
    app.command("rescore")(rescore)
    app.command("backtest")(backtest)
