"""What ``mql demo`` found, and how it is printed (Rich) or written (JSON)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from mql.cli.output import plain
from mql.cli.records import instant_text as records_day
from mql.cli.records import lead_records
from mql.demo.compare import Comparison
from mql.workspace import LeadScoreRow

#: Reasons shown per MQL: its largest contributions.
REASONS_SHOWN = 4


@dataclass(frozen=True)
class Reason:
    """One contribution to a shown MQL's score."""

    rule: str
    label: str
    value: float


@dataclass(frozen=True)
class DemoReport:
    """Everything the demo measured, with the commands to look further."""

    folder: Path
    database: str
    model: Path
    imports: dict[str, dict[str, int]]
    instant: datetime
    comparison: Comparison
    cohorts: int
    top: list[LeadScoreRow]
    reasons: dict[int, list[Reason]]
    mqls_now: int
    seconds: float
    steps: dict[str, float] = field(default_factory=dict)


def report_json(report: DemoReport) -> str:
    """The report as one JSON object (figures under ``comparison``)."""
    body = {
        "folder": str(report.folder),
        "database": report.database,
        "model": str(report.model),
        "imports": report.imports,
        "comparison": report.comparison.to_dict(),
        "cohorts": report.cohorts,
        "at": plain(report.instant),
        "mqls_at": report.mqls_now,
        "top_mqls": [
            {
                **{k: plain(v) for k, v in row.items()},
                "reasons": [
                    {"rule": r.rule, "label": r.label, "value": r.value}
                    for r in report.reasons.get(row["lead"], [])
                ],
            }
            for row in lead_records(report.top)
        ],
        "seconds": report.seconds,
    }
    return json.dumps(body, indent=2, ensure_ascii=False)


def print_report(console: Console, report: DemoReport) -> None:
    """Print the top MQLs with their reasons, then the comparison with the outcome."""
    when = records_day(report.instant)
    leads, events = report.imports["leads"], report.imports["events"]
    console.print(
        f"Imported {leads['imported']:,} leads and {events['imported']:,} events "
        f"({leads['quarantined'] + events['quarantined']:,} rows quarantined).",
        highlight=False,
    )
    console.print(
        f"\n[bold]Top {len(report.top)} of {report.mqls_now:,} MQLs at {when}[/bold] "
        "(the day after the last call in the data)"
    )
    console.print(_top_table(report))
    console.print(_comparison_table(report.comparison, report.cohorts))
    example = report.top[0].external_id if report.top else "1"
    options = f"mql --db {report.database} --model {report.model}"
    console.print(
        f"Done in {report.seconds:.1f}s. Look further with:\n"
        f"  {options} mqls --at 2009-06-01 --limit 10\n"
        f"  {options} explain {example} --at {records_day(report.instant)}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _top_table(report: DemoReport) -> Table:
    table = Table(show_lines=False)
    for name in ("lead", "score", "fit", "intent", "grade", "mql until", "reasons"):
        table.add_column(
            name, justify="left" if name in ("lead", "reasons") else "right"
        )
    for row in lead_records(report.top):
        reasons = report.reasons.get(row["lead"], [])
        until = row["mql_until"]
        table.add_row(
            str(row["external_id"] or f"id:{row['lead']}"),
            f"{row['score']:.1f}",
            f"{row['fit']:.1f}",
            f"{row['intent']:.1f}",
            str(row["grade"]),
            str(plain(until))[: len("YYYY-MM-DD")] if until else "-",
            "; ".join(f"{r.value:+.0f} {r.label}" for r in reasons),
        )
    return table


def _comparison_table(result: Comparison, cohorts: int) -> Table:
    table = Table(
        title="MQLs against the real outcome",
        caption=(
            f"{cohorts} monthly waves, each judged at 00:00 UTC on the 1st of the "
            "next month"
        ),
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        ("contacts", f"{result.contacts:,}"),
        ("subscribed (converters)", f"{result.converters:,} ({result.base_rate:.1%})"),
        ("MQLs", f"{result.mqls:,}"),
        ("MQL share of contacts", f"{result.mql_share:.1%}"),
        ("converters caught", f"{result.caught:,} ({result.caught_share:.1%})"),
        ("precision (MQLs that subscribed)", f"{result.precision:.1%}"),
        ("lift over the base rate", f"{result.lift:.2f}x"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
