"""Lifecycle commands: history, handoffs, moves, BANT, won/lost, sync, funnel.

Mounted on the main app with :func:`register`. Handoffs and moves record the score
and its explanation from the model file (``--model``) when it exists, else the
stored score. The lifecycle configuration
(owners, routing, SLA, approval, webhooks) is read from ``--config``, else
``$MQL_LIFECYCLE_CONFIG``, else ``lifecycle.yaml`` in the working folder when it
exists; without one, nobody is routed to and approval is by a person only.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from mql.cli.errors import reports_errors
from mql.cli.output import OutputFormat, emit
from mql.cli.times import AT_FORMAT_HELP, parse_instant
from mql.lifecycle import (
    Actor,
    Dispatcher,
    Lifecycle,
    LifecycleConfig,
    ModelScorer,
    Scorer,
    Transition,
    deliveries,
    export_handoffs,
    funnel,
    load_config,
)
from mql.lifecycle.dispatch import DEFAULT_MAX_DELIVERIES, DELIVERY_STATUSES
from mql.lifecycle.handoffs import Handoff, HandoffStatus
from mql.lifecycle.records import utc_text
from mql.settings import Settings

CONFIG_ENV = "MQL_LIFECYCLE_CONFIG"
DEFAULT_CONFIG = Path("lifecycle.yaml")
USER_ENV = "MQL_USER"
STATUS_NAMES = ", ".join(s.value for s in HandoffStatus)

handoffs_app = typer.Typer(
    help="List, approve, reject and export handoffs (MQLs proposed to sales).\n\n"
    "Example: mql handoffs list --status pending",
    no_args_is_help=True,
)
lifecycle_app = typer.Typer(
    help="Apply due lifecycle moves and deliver the outbox to webhooks.\n\n"
    "Example: mql lifecycle sync --at 2026-12-04",
    no_args_is_help=True,
)
stdout = Console(soft_wrap=False)


def register(app: typer.Typer) -> None:
    """Add the lifecycle commands to the main ``mql`` app."""
    for name, command in (
        ("history", history),
        ("funnel", funnel_command),
        ("move", move),
        ("accept", accept),
        ("decline", decline),
        ("bant", bant),
        ("opportunity", opportunity),
        ("won", won),
        ("lost", lost),
    ):
        app.command(name)(command)
    app.add_typer(handoffs_app, name="handoffs")
    app.add_typer(lifecycle_app, name="lifecycle")


def _parse_at(value: str) -> datetime:
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--at'") from exc


AtOption = Annotated[
    datetime | None,
    typer.Option(
        "--at",
        parser=_parse_at,
        help="The instant the move happens: " + AT_FORMAT_HELP,
        metavar="DATE|TIMESTAMP",
        show_default=False,
    ),
]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        help=f"Who acts (default: ${USER_ENV}, else your login).",
        show_default=False,
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=f"Lifecycle configuration (YAML). Default: "
        f"${CONFIG_ENV}, else {DEFAULT_CONFIG} if present.",
        show_default=False,
    ),
]
FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format", "-f", help="Print as a table, CSV or JSON.", case_sensitive=False
    ),
]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded).")]
LeadArg = Annotated[str, typer.Argument(help="Lead id, email or external id.")]
HandoffArg = Annotated[int, typer.Argument(help="The handoff's number.")]
StageArg = Annotated[str, typer.Argument(help="The stage to move the lead to.")]


def _config(path: Path | None) -> LifecycleConfig:
    chosen = path or (
        Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None
    )
    if chosen is None and DEFAULT_CONFIG.is_file():
        chosen = DEFAULT_CONFIG
    return load_config(chosen) if chosen is not None else LifecycleConfig()


def _db(ctx: typer.Context) -> str:
    root = ctx.find_root().obj
    db = getattr(root, "db", None)
    return str(db) if db else Settings.from_env().database_url


@contextmanager
def _lifecycle(
    ctx: typer.Context, config: Path | None = None, *, configured: bool = False
) -> Iterator[Lifecycle]:
    """The lifecycle over the store; the configuration is read only when needed.

    ``configured`` commands (routing, SLA, webhooks) read ``--config`` or the
    default file; the others read a file only when ``--config`` names one, so a
    broken ``lifecycle.yaml`` does not block them.
    """
    from mql.store import open_store

    settings = _config(config) if configured or config else LifecycleConfig()
    scorer = _scorer(ctx)
    store = open_store(_db(ctx))
    try:
        yield Lifecycle(store, settings, scorer=scorer)
    finally:
        store.close()


def _scorer(ctx: typer.Context) -> Scorer | None:
    """Explain from the model file when there is one; else record stored scores."""
    path = getattr(ctx.find_root().obj, "model", None)
    if path is None or not Path(path).is_file():
        return None
    from mql.ingest.identity import registered_domain
    from mql.model import load_model

    return ModelScorer(load_model(path), email_domain=registered_domain)


def _instant(value: datetime | None) -> str:
    return utc_text(value) if value is not None else "none"


def _seconds(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with their instants as UTC ISO 8601 to the second, ending in Z."""
    return [
        {k: utc_text(v) if isinstance(v, datetime) else v for k, v in row.items()}
        for row in rows
    ]


def _actor(by: str | None) -> Actor:
    return Actor(by or os.environ.get(USER_ENV) or getpass.getuser())


HISTORY_FIELDS = (
    "at",
    "from",
    "to",
    "kind",
    "actor",
    "actor_kind",
    "reason",
    "score",
    "grade",
    "handoff_id",
)


@reports_errors
def history(
    ctx: typer.Context, lead: LeadArg, fmt: FormatOption = OutputFormat.table
) -> None:
    """Every recorded move of a lead: from, to, when, who, why, score.

    Example: mql history cfo@acme.example
    """
    with _lifecycle(ctx) as lc:
        rows = [t.to_dict() for t in lc.history(lead)]
    emit(stdout, _seconds(rows), HISTORY_FIELDS, fmt, title=f"history of {lead}")


HANDOFF_FIELDS = (
    "id",
    "lead_id",
    "episode",
    "status",
    "score",
    "grade",
    "owner",
    "due_at",
    "created_at",
    "decided_by",
    "decision_kind",
)


def _handoff_row(h: Handoff) -> dict[str, Any]:
    return {name: getattr(h, name) for name in HANDOFF_FIELDS}


@handoffs_app.command("list")
@reports_errors
def handoffs_list(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help=f"Only this status ({STATUS_NAMES})."),
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option(help="Only this owner (a configured owner id)."),
    ] = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List handoffs, newest first.

    Example: mql handoffs list --status pending
    """
    with _lifecycle(ctx, config, configured=owner is not None) as lc:
        rows = [_handoff_row(h) for h in lc.handoffs(status, owner)]
    emit(stdout, _seconds(rows), HANDOFF_FIELDS, fmt, title="handoffs")


@handoffs_app.command("approve")
@reports_errors
def handoffs_approve(
    ctx: typer.Context,
    handoff_id: HandoffArg,
    reason: Annotated[str | None, typer.Option("--reason", help="Why.")] = None,
    by: ByOption = None,
    at: AtOption = None,
    config: ConfigOption = None,
) -> None:
    """Approve a pending handoff; it is routed to an owner at once.

    Example: mql handoffs approve 12 --by maria
    """
    with _lifecycle(ctx, config, configured=True) as lc:
        h = lc.approve(handoff_id, _actor(by), reason, at)
    owner = (
        f"routed to {h.owner} ({h.routed_via}), due {_instant(h.due_at)}"
        if h.owner
        else ("no owner with capacity yet; `mql lifecycle sync` routes it later")
    )
    stdout.print(f"handoff {h.id} approved; {owner}", highlight=False)


@handoffs_app.command("reject")
@reports_errors
def handoffs_reject(
    ctx: typer.Context,
    handoff_id: HandoffArg,
    reason: ReasonOption,
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Reject a pending handoff with a reason; the lead is recycled.

    Example: mql handoffs reject 12 --reason "student, not a buyer"
    """
    with _lifecycle(ctx) as lc:
        h = lc.reject(handoff_id, _actor(by), reason, at)
    stdout.print(f"handoff {h.id} rejected; lead {h.lead_id} recycled", highlight=False)


@handoffs_app.command("export")
@reports_errors
def handoffs_export(
    ctx: typer.Context,
    purpose: Annotated[
        str,
        typer.Option(
            help="crm (everyone, with consent columns) "
            "or email (opted-out leads left out)."
        ),
    ] = "crm",
    status: Annotated[
        str | None, typer.Option(help=f"Only this status ({STATUS_NAMES}).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write to this file.")] = None,
) -> None:
    """Export handoffs as CSV for a CRM or an email tool.

    Example: mql handoffs export --purpose email --status approved --out send.csv
    """
    if purpose not in ("crm", "email"):
        raise typer.BadParameter("use crm or email", param_hint="'--purpose'")
    with _lifecycle(ctx) as lc, lc.store.begin() as conn:
        text = export_handoffs(conn, "email" if purpose == "email" else "crm", status)
    if out is None:
        stdout.out(text, end="", highlight=False)
    else:
        out.write_text(text, encoding="utf-8")


@reports_errors
def move(
    ctx: typer.Context,
    lead: LeadArg,
    stage: StageArg,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Why; needed for skips, moves back, recycle and disqualify.",
        ),
    ] = None,
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Move a lead to a stage (skips and moves back need --reason).

    Moving to mql opens a pending handoff that waits for approval; a lead becomes
    sal only through `mql handoffs approve` and `mql accept`.

    Example: mql move cfo@acme.example disqualified --reason "competitor"
    """
    with _lifecycle(ctx) as lc:
        t = lc.move(lead, stage, _actor(by), reason, at)
    _moved(t)
    if t.to_stage.value == "mql":
        stdout.print(
            f"lead {t.lead_id}: handoff opened, pending approval "
            "(see `mql handoffs list --status pending`)",
            highlight=False,
        )


def _moved(t: Transition) -> None:
    """Print the move a command made: lead, from, to and its kind."""
    move = f"{t.from_stage.value} -> {t.to_stage.value} ({t.kind.value})"
    stdout.print(f"lead {t.lead_id}: {move}", highlight=False)


@reports_errors
def accept(
    ctx: typer.Context,
    lead: LeadArg,
    by: ByOption = None,
    at: AtOption = None,
    config: ConfigOption = None,
) -> None:
    """The owner accepts the lead's approved handoff: the lead becomes SAL.

    The SLA calendar of the configuration measures the response time.

    Example: mql accept cfo@acme.example --by ben
    """
    with _lifecycle(ctx, config, configured=True) as lc:
        t = lc.accept(lead, _actor(by), at)
    _moved(t)


@reports_errors
def decline(
    ctx: typer.Context,
    lead: LeadArg,
    reason: ReasonOption,
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """The owner declines the lead's handoff with a reason: the lead is recycled.

    Example: mql decline cfo@acme.example --reason "conflict of interest" --by ben
    """
    with _lifecycle(ctx) as lc:
        t = lc.decline(lead, _actor(by), reason, at)
    _moved(t)


@reports_errors
def bant(
    ctx: typer.Context,
    lead: LeadArg,
    budget: Annotated[str, typer.Option(help="Budget amount, e.g. 25000.")],
    authority: Annotated[str, typer.Option(help="Who decides, e.g. 'CFO'.")],
    need: Annotated[str, typer.Option(help="What they need.")],
    timeline: Annotated[str, typer.Option(help="Decision date, YYYY-MM-DD.")],
    currency: Annotated[str, typer.Option(help="ISO currency code.")] = "USD",
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Confirm budget, authority, need and timeline: the lead becomes SQL.

    Example: mql bant 7 --budget 25000 --authority CFO --need audit
    --timeline 2027-03-31
    """
    data = {
        "budget": budget,
        "authority": authority,
        "need": need,
        "timeline": timeline,
        "currency": currency,
    }
    with _lifecycle(ctx) as lc:
        t = lc.qualify(lead, data, _actor(by), at)
    _moved(t)


@reports_errors
def opportunity(
    ctx: typer.Context,
    lead: LeadArg,
    value: Annotated[str, typer.Option(help="Expected fees, e.g. 18000.")],
    expected_close: Annotated[str, typer.Option(help="YYYY-MM-DD.")],
    currency: Annotated[str, typer.Option(help="ISO currency code.")] = "USD",
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Open an opportunity with its value and expected close (from SQL).

    Example: mql opportunity 7 --value 18000 --expected-close 2027-02-15
    """
    data = {"value": value, "expected_close": expected_close, "currency": currency}
    with _lifecycle(ctx) as lc:
        t = lc.open_opportunity(lead, data, _actor(by), at)
    _moved(t)


@reports_errors
def won(
    ctx: typer.Context,
    lead: LeadArg,
    reason: ReasonOption,
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Record won work: the lead becomes a client.

    Example: mql won 7 --reason "fixed fee accepted"
    """
    with _lifecycle(ctx) as lc:
        t = lc.win(lead, reason, _actor(by), at)
    _moved(t)


@reports_errors
def lost(
    ctx: typer.Context,
    lead: LeadArg,
    reason: ReasonOption,
    by: ByOption = None,
    at: AtOption = None,
) -> None:
    """Record lost work: the lead goes back to nurture (recycled) with the reason.

    Example: mql lost 7 --reason "chose a larger firm"
    """
    with _lifecycle(ctx) as lc:
        t = lc.lose(lead, reason, _actor(by), at)
    _moved(t)


FUNNEL_FIELDS = (
    "stage",
    "current",
    "reached",
    "conversion_to_next",
    "median_days",
    "stays",
)


@reports_errors
def funnel_command(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Leads per stage, conversion to the next stage, median days in each.

    Example: mql funnel --format csv
    """
    with _lifecycle(ctx) as lc, lc.store.begin() as conn:
        lines = funnel(conn)
    rows = [{f: getattr(line, f) for f in FUNNEL_FIELDS} for line in lines]
    emit(stdout, rows, FUNNEL_FIELDS, fmt, title="funnel")


@lifecycle_app.command("sync")
@reports_errors
def sync_command(
    ctx: typer.Context,
    at: AtOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Apply every move due up to --at (new MQL handoffs, lapses, SLA actions).

    Prints what was done and the next instant something falls due.

    Example: mql lifecycle sync --at 2026-12-31T17:00
    """
    with _lifecycle(ctx, config, configured=True) as lc:
        report = lc.sync(at)
    rows = [{"measure": k, "value": v} for k, v in report.to_dict().items()]
    emit(stdout, _seconds(rows), ("measure", "value"), fmt, title="lifecycle sync")
    for line in report.errors:
        stdout.print(f"skipped {line}", highlight=False, markup=False)


@lifecycle_app.command("dispatch")
@reports_errors
def dispatch_command(
    ctx: typer.Context,
    config: ConfigOption = None,
    max_deliveries: Annotated[
        int,
        typer.Option(
            "--max",
            min=1,
            help="Stop after this many delivery attempts; run again for the rest.",
        ),
    ] = DEFAULT_MAX_DELIVERIES,
) -> None:
    """Deliver every due outbox message to the configured webhooks, then stop.

    Sends in rounds until nothing is due (a failed delivery waits for its backoff)
    or --max attempts were made.

    Example: mql lifecycle dispatch --config lifecycle.yaml --max 5000
    """
    with _lifecycle(ctx, config, configured=True) as lc:
        report = Dispatcher(lc.store, lc.config).run(max_deliveries)
    stdout.print(
        f"{report.delivered} delivered, {report.retrying} to retry, "
        f"{report.failed} failed",
        highlight=False,
    )
    if report.stopped_at_max:
        stdout.print(
            f"stopped after --max {max_deliveries} attempts; more are due: run "
            "`mql lifecycle dispatch` again",
            highlight=False,
        )


OUTBOX_FIELDS = (
    "message_id",
    "webhook",
    "kind",
    "lead_id",
    "status",
    "attempts",
    "next_attempt_at",
    "last_status",
    "last_error",
    "delivered_at",
)


@lifecycle_app.command("outbox")
@reports_errors
def outbox_command(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help=f"Only this status ({', '.join(DELIVERY_STATUSES)})."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show webhook deliveries and their errors.

    Example: mql lifecycle outbox --status failed
    """
    with _lifecycle(ctx) as lc:
        rows = deliveries(lc.store, status)
    emit(stdout, _seconds(rows), OUTBOX_FIELDS, fmt, title="outbox deliveries")


@lifecycle_app.command("retry")
@reports_errors
def retry_command(ctx: typer.Context, config: ConfigOption = None) -> None:
    """Queue failed deliveries again.

    Example: mql lifecycle retry
    """
    with _lifecycle(ctx, config, configured=True) as lc:
        count = Dispatcher(lc.store, lc.config).retry_failed()
    stdout.print(f"{count} deliveries queued again", highlight=False)


#: A new MQL (from rescoring) is noticed within this many seconds by default.
DEFAULT_POLL_SECONDS = 60.0


@lifecycle_app.command("run")
@reports_errors
def run_command(
    ctx: typer.Context,
    poll: Annotated[
        float,
        typer.Option(min=0.1, help="Longest sleep between syncs, in seconds."),
    ] = DEFAULT_POLL_SECONDS,
    duration: Annotated[
        float | None,
        typer.Option(
            "--for",
            min=0,
            help="Stop after this many seconds (default: run until interrupted).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Keep the lifecycle up to date: sync, deliver webhooks, sleep until next due.

    Example: mql lifecycle run --poll 30 --config lifecycle.yaml
    """
    from mql.lifecycle.sync import run

    with _lifecycle(ctx, config, configured=True) as lc:
        deadline = None if duration is None else time.monotonic() + duration
        dispatcher = Dispatcher(lc.store, lc.config) if lc.config.webhooks else None
        rounds = run(
            lc,
            max_sleep=poll,
            keep_going=lambda: deadline is None or time.monotonic() < deadline,
            deliver=dispatcher.run_once if dispatcher is not None else None,
            sleep=lambda s: time.sleep(
                s if deadline is None else max(0.0, min(s, deadline - time.monotonic()))
            ),
        )
    stdout.print(f"{rounds} syncs", highlight=False)
