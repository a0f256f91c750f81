"""The ``mql`` command line: a thin layer over :mod:`mql.workspace`.

Every command opens the store named by ``--db`` (else ``MQL_DATABASE_URL``, else
``sqlite:///mql.db`` in the working folder) and reads the model named by
``--model`` (default ``mql.yaml``). Errors that mql raises on purpose, and errors
in the command line itself (an unknown option, a bad value), are printed as one
line on standard error with exit code 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer
from rich.console import Console

from mql import __version__
from mql.cli import records
from mql.cli.errors import EXIT_ERROR, fail, reports_errors
from mql.cli.output import OutputFormat, emit
from mql.cli.progress import import_progress
from mql.cli.times import AT_HELP, at_parser, now
from mql.errors import InputError
from mql.model import TEMPLATES, Model, load_model, template_path
from mql.settings import DATABASE_URL_ENV, Settings, mask_url
from mql.store import Store

if TYPE_CHECKING:
    from mql.ingest.importer import ImportReport

DEFAULT_MODEL = Path("mql.yaml")
DEFAULT_DEMO_DIR = Path("mql-demo")
#: MQLs shown by ``mql demo`` unless ``--top`` says otherwise.
DEFAULT_DEMO_TOP = 10

app = typer.Typer(
    name="mql",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
import_app = typer.Typer(
    help=(
        "Import leads or events from CSV, TSV, JSON lines or Parquet files.\n\n"
        "Example: mql import leads contacts.csv --mapping crm.mapping.yaml"
    ),
    no_args_is_help=True,
)
quarantine_app = typer.Typer(
    help=(
        "Look at (and clear) the input rows an import could not accept.\n\n"
        "Example: mql quarantine list --file contacts.csv"
    ),
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
app.add_typer(quarantine_app, name="quarantine")


@dataclass(frozen=True)
class Globals:
    """The global options, resolved."""

    db: str
    model: Path
    console: Console


AtOption = Annotated[
    datetime | None,
    typer.Option(
        "--at",
        parser=at_parser,
        help=AT_HELP,
        metavar="DATE|TIMESTAMP",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="Print as a table, CSV or JSON.", case_sensitive=False
    ),
]
LimitOption = Annotated[
    int | None,
    typer.Option("--limit", "-n", min=1, help="Show at most this many leads."),
]
RowLimitOption = Annotated[
    int | None,
    typer.Option("--limit", "-n", min=1, help="Show at most this many rows."),
]
QuarantineFileOption = Annotated[
    Path | None,
    typer.Option(
        "--file",
        help="Only the rows of this file (the path as given to the import).",
        show_default=False,
    ),
]
QuarantineRunOption = Annotated[
    int | None,
    typer.Option(
        "--run", min=1, help="Only the rows of this import run.", show_default=False
    ),
]
MappingOption = Annotated[
    Path | None,
    typer.Option(
        "--mapping",
        "-m",
        help="A mapping file (YAML) naming the columns; see docs/import.md.",
    ),
]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help=(
            "Refuse the whole file when any row cannot be accepted: nothing is "
            "imported and the exit code is 2. Without it, such rows go to "
            "quarantine and the rest is imported."
        ),
    ),
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mql {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help=(
                f"Database URL (sqlite:///mql.db, postgresql+psycopg://...). "
                f"Default: ${DATABASE_URL_ENV}, else mql.db in the working folder."
            ),
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        Path, typer.Option("--model", help="The model file (YAML).")
    ] = DEFAULT_MODEL,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Find the marketing-qualified leads (MQLs) of a professional services firm.

    Import leads and events, score them with a model file, list and explain the
    MQLs at any past or future instant.

    Example: mql --db sqlite:///firm.db mqls --at 2025-03-31 --format csv
    """
    ctx.obj = Globals(
        db=db or Settings.from_env().database_url,
        model=model,
        console=Console(soft_wrap=False),
    )


@contextmanager
def _store(ctx: typer.Context) -> Iterator[Store]:
    from mql.workspace import open_workspace

    store = open_workspace(_globals(ctx).db)
    try:
        yield store
    finally:
        store.close()


def _out(ctx: typer.Context) -> Console:
    return _globals(ctx).console


def _globals(ctx: typer.Context) -> Globals:
    globals_ = ctx.find_root().obj
    assert isinstance(globals_, Globals)
    return globals_


def _model(ctx: typer.Context) -> Model:
    return load_model(_globals(ctx).model)


@app.command()
@reports_errors
def init(
    ctx: typer.Context,
    template: Annotated[
        str,
        typer.Option(
            "--template", "-t", help=f"Start from a template: {', '.join(TEMPLATES)}."
        ),
    ] = TEMPLATES[0],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing model file.")
    ] = False,
) -> None:
    """Write a model file from a template and create the store.

    Example: mql init --template law
    """
    target = _globals(ctx).model
    source = template_path(template)
    if target.exists() and not force:
        raise InputError(
            f"{target} already exists; edit it, pass --force to overwrite it, "
            "or choose another file with --model"
        )
    text = source.read_text(encoding="utf-8")
    target.write_text(text, encoding="utf-8")
    model = load_model(target)
    with _store(ctx) as store:
        _out(ctx).print(
            f"Wrote {target} from the {template} template ({model.name}, "
            f"threshold {model.threshold:g}); store ready at {mask_url(store.url)}.",
            markup=False,
            highlight=False,
        )


@import_app.command("leads")
@reports_errors
def import_leads_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The leads file to import.")],
    mapping: MappingOption = None,
    strict: StrictOption = False,
) -> None:
    """Import (or update) leads and their accounts from a file.

    Example: mql import leads contacts.csv --mapping crm.mapping.yaml
    """
    _import_file(ctx, "leads", file, mapping, strict)


@import_app.command("events")
@reports_errors
def import_events_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The events file to import.")],
    mapping: MappingOption = None,
    strict: StrictOption = False,
) -> None:
    """Import events (visits, downloads, webinars, calls...) from a file.

    Example: mql import events web-visits.csv --mapping web.mapping.yaml --strict
    """
    _import_file(ctx, "events", file, mapping, strict)


def _import_file(
    ctx: typer.Context,
    kind: Literal["leads", "events"],
    file: Path,
    mapping: Path | None,
    strict: bool,
) -> None:
    """Import a leads or events file, print the counts and warn about what the
    model reads that the store lacks (attributes, event types, event properties)."""
    from mql.workspace import import_events, import_leads

    run = import_leads if kind == "leads" else import_events
    model = _model_if_present(ctx)
    with _store(ctx) as store, import_progress(_out(ctx), kind) as progress:
        report = run(
            store, file, mapping=mapping, strict=strict, progress=progress, model=model
        )
        _finish_import(_out(ctx), report)
        warn_missing_reads(store, model)


def _model_if_present(ctx: typer.Context) -> Model | None:
    """The model when its file exists: imports then keep the stored scores fresh."""
    path = _globals(ctx).model
    return load_model(path) if path.exists() else None


def warn_missing_reads(
    store: Store, model: Model | None, source: Path | None = None
) -> None:
    """Warn on standard error, once each, about what the model reads that the
    store lacks: lead attributes (a column named differently, e.g. ``Title`` for
    ``title``), then event types and event properties (a misspelt type such as
    ``campain_call``). With ``source``, each line names the model file."""
    if model is None:
        return
    from mql.workspace import missing_attributes, missing_event_reads

    messages = [f.message for f in missing_attributes(store, model)]
    messages += [f.message for f in missing_event_reads(store, model)]
    prefix = f"warning: {source}: " if source is not None else "warning: "
    console = Console(stderr=True, soft_wrap=True)
    for message in messages:
        console.print(f"{prefix}{message}", markup=False, highlight=False)


def _finish_import(out: Console, report: ImportReport) -> None:
    counts = records.import_counts(report)
    printed = {**counts}
    if report.kind == "events":
        # Events of leads not yet known create them: say how many.
        printed["leads created"] = report.leads_created
    out.print(
        ", ".join(f"{name} {value:,}" for name, value in printed.items()),
        highlight=False,
    )
    if report.already_quarantined:
        out.print(
            f"{report.already_quarantined:,} rejected rows were already in "
            "quarantine from an earlier import of this file (not added again).",
            markup=False,
            highlight=False,
        )
    for note in report.notes:
        out.print(f"Note: {note}", markup=False, highlight=False)
    if counts["quarantined"]:
        out.print(
            "See the rows that could not be imported with `mql quarantine list`.",
            markup=False,
            highlight=False,
        )


@app.command()
@reports_errors
def score(
    ctx: typer.Context,
    at: AtOption = None,
    limit: LimitOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Score every lead at an instant (stored for fast MQL look-ups) and list them.

    Example: mql score --at 2025-03-31 --limit 20
    """
    from mql.workspace import rescore, scores

    instant = at or now()
    model = _model(ctx)
    with _store(ctx) as store:
        rescore(store, model, at=instant)
        rows = scores(store, model, instant)
        warn_missing_reads(store, model)
    listing = (
        records.lead_records(rows)[:limit] if limit else records.lead_records(rows)
    )
    emit(_out(ctx), listing, records.LEAD_FIELDS, fmt, title=_title("Scores", instant))


@app.command()
@reports_errors
def mqls(
    ctx: typer.Context,
    at: AtOption = None,
    limit: LimitOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the leads that are MQLs at an instant, best first.

    Example: mql mqls --at 2025-03-31T09:00 --limit 10 --format json
    """
    from mql.workspace import mqls as list_mqls

    instant = at or now()
    model = _model(ctx)
    with _store(ctx) as store:
        rows = list_mqls(store, model, instant, limit)
        warn_missing_reads(store, model)
    emit(
        _out(ctx),
        records.lead_records(rows),
        records.LEAD_FIELDS,
        fmt,
        title=_title("MQLs", instant),
    )


@app.command()
@reports_errors
def explain(
    ctx: typer.Context,
    lead: Annotated[
        str, typer.Argument(help="The lead: its email, its external id, or id:N.")
    ],
    at: AtOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show why a lead has its score: each rule, event, decay and cap.

    Example: mql explain jane@acme.example --at 2025-03-31
    """
    from mql.workspace import explain_lead

    instant = at or now()
    model = _model(ctx)
    with _store(ctx) as store:
        explained = explain_lead(store, model, lead, instant)
    summary, entries = records.explanation_records(explained)
    if fmt is OutputFormat.json:
        _out(ctx).out(records.explanation_json(summary, entries), highlight=False)
        return
    if fmt is OutputFormat.table:
        _out(ctx).print(records.summary_line(summary), markup=False, highlight=False)
    emit(_out(ctx), entries, records.ENTRY_FIELDS, fmt)


@quarantine_app.command("list")
@reports_errors
def quarantine_list(
    ctx: typer.Context,
    file: QuarantineFileOption = None,
    run: QuarantineRunOption = None,
    limit: RowLimitOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the rows that imports put in quarantine, with the reason.

    Example: mql quarantine list --run 3 --format csv > quarantined.csv
    """
    from mql.workspace import list_quarantine

    with _store(ctx) as store:
        found = list_quarantine(store, run_id=run, limit=limit, file=file)
    emit(_out(ctx), records.quarantine_records(found), records.QUARANTINE_FIELDS, fmt)


@quarantine_app.command("clear")
@reports_errors
def quarantine_clear(
    ctx: typer.Context,
    file: QuarantineFileOption = None,
    run: QuarantineRunOption = None,
    all_entries: Annotated[
        bool, typer.Option("--all", help="Clear every quarantined row.")
    ] = False,
) -> None:
    """Delete quarantined rows: those of a file or an import run, or --all.

    Rows stay in quarantine until cleared here, whatever is imported later.

    Example: mql quarantine clear --file contacts.csv
    """
    from mql.workspace import clear_quarantine

    with _store(ctx) as store:
        cleared = clear_quarantine(
            store, run_id=run, file=file, all_entries=all_entries
        )
    _out(ctx).print(
        f"Cleared {cleared:,} quarantined rows.", markup=False, highlight=False
    )


@app.command()
@reports_errors
def demo(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Option("--dir", help="The folder of the demo workspace (made afresh)."),
    ] = DEFAULT_DEMO_DIR,
    top: Annotated[
        int, typer.Option("--top", min=1, help="How many MQLs to show with reasons.")
    ] = DEFAULT_DEMO_TOP,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Score real public data (UCI Bank Marketing) and compare with the outcomes.

    Makes a fresh workspace in --dir, imports 45,211 contacts of a bank's phone
    campaigns (2008-2010) and their calls, scores them with a model written for
    them, prints the top MQLs with their reasons and how the MQL list compares
    with who really subscribed.

    Example: mql demo --dir demo-out --top 5
    """
    from mql.demo import run_demo
    from mql.demo.report import print_report, report_json

    report = run_demo(
        folder, top=top, console=_out(ctx) if fmt is OutputFormat.table else None
    )
    if fmt is OutputFormat.json:
        _out(ctx).out(report_json(report), highlight=False)
    elif fmt is OutputFormat.csv:
        emit(_out(ctx), records.lead_records(report.top), records.LEAD_FIELDS, fmt)
    else:
        print_report(_out(ctx), report)


@app.command(hidden=True)
@reports_errors
def docs(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of standard output."),
    ] = None,
) -> None:
    """Print the command reference (docs/cli.md) made from the commands' help.

    Example: mql docs --output docs/cli.md
    """
    from mql.cli.reference import reference

    text = reference(typer.main.get_command(app))
    if output is None:
        _out(ctx).out(text, end="", highlight=False)
    else:
        output.write_text(text, encoding="utf-8")


def _title(what: str, instant: datetime) -> str:
    return f"{what} at {records.instant_text(instant)}"


def _mount_other_commands() -> None:
    """Add the commands of the other parts (batch, learning, lifecycle) to ``mql``."""
    from mql.cli import batch_commands, learn_commands, lifecycle_commands

    learn_commands.register(app)
    lifecycle_commands.register(app)
    batch_commands.register(app)


_mount_other_commands()


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``mql`` console script: errors in the command line
    (unknown command or option, bad value) print one line, like mql's own."""
    try:
        result = app(args=args, prog_name="mql", standalone_mode=False)
    except (KeyboardInterrupt, typer.Abort):  # pragma: no cover - interactive only
        _exit_with("interrupted", EXIT_ERROR)
    except typer.TyperException as exc:
        _usage_failure(exc)
    raise SystemExit(result if isinstance(result, int) else 0)


def _exit_with(message: str, code: int) -> NoReturn:
    """Print ``error: <message>`` as :func:`fail` does, outside of a command."""
    try:
        fail(message, code)
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None


def _usage_failure(exc: typer.TyperException) -> NoReturn:
    """One line for an error in the command line, with where to find help."""
    code = int(getattr(exc, "exit_code", EXIT_ERROR))
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    if not message:
        # "mql import" alone: the group's help was printed instead.
        raise SystemExit(code)
    context = getattr(exc, "ctx", None)
    path = getattr(context, "command_path", None) or "mql"
    _exit_with(f"{message} (see `{path} --help`)", code)


__all__ = ["EXIT_ERROR", "app", "main"]
