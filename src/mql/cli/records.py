"""What the commands list, as records with stable, documented field names.

The JSON and CSV field names below are part of the command line's contract
(docs/cli.md): new fields may be added at the end, none is renamed or removed
without a major version.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mql.cli.output import plain, short_instant

if TYPE_CHECKING:  # the command line imports the library only when a command runs
    from mql.ingest.importer import ImportReport
    from mql.ingest.quarantine import QuarantineRow
    from mql.workspace import LeadExplanation, LeadScoreRow

#: One row per lead in ``mql score``, ``mql mqls`` and ``mql demo``.
LEAD_FIELDS = (
    "lead",
    "email",
    "external_id",
    "account",
    "score",
    "fit",
    "intent",
    "grade",
    "mql",
    "mql_until",
    "disqualified_reason",
    "last_activity",
)
#: One row per contribution in ``mql explain``.
ENTRY_FIELDS = (
    "kind",
    "rule",
    "group",
    "event_id",
    "event_at",
    "points",
    "factor",
    "value",
    "note",
    "label",
)
#: One row per quarantined input row in ``mql quarantine list``.
QUARANTINE_FIELDS = (
    "id",
    "import_run",
    "file",
    "line",
    "field",
    "reason",
    "raw",
    "created_at",
)
#: What each field means, for docs/cli.md.
FIELD_MEANINGS: dict[str, dict[str, str]] = {
    "Lead rows (`mql score`, `mql mqls`, `mql demo --format csv`)": {
        "lead": "the lead's internal number (`mql explain id:N` takes it)",
        "email": "the lead's normalised email, or null",
        "external_id": "the lead's id in the source system (CRM), or null",
        "account": "the account's domain or name, or null",
        "score": "fit + intent at the instant asked about (number)",
        "fit": "points of the fit rules that hold (number, does not decay)",
        "intent": "the decayed, capped points of the lead's events (number)",
        "grade": "the fit grade, A (best) to D",
        "mql": "true when the lead is an MQL at that instant",
        "mql_until": "when the MQL lapses if nothing else happens (UTC, ISO 8601 "
        "ending in Z); null when it never lapses or the lead is not an MQL",
        "disqualified_reason": "why the lead can never be an MQL, or null",
        "last_activity": "the lead's last activity up to the instant (UTC), or null",
    },
    "Explanation entries (`mql explain`; JSON adds the lead fields, `at` and "
    "`entries`)": {
        "kind": "fit, intent, cap, floor, total_cap or disqualifier",
        "rule": "the rule's id",
        "group": "the intent group, for intent, cap and floor entries",
        "event_id": "the event that fired the rule",
        "event_at": "when that event happened (UTC)",
        "points": "the rule's points",
        "factor": "the share of the points kept after decay at the instant",
        "value": "what the entry adds to the score; the values add up to it",
        "note": "more detail, when there is some",
    },
    "Quarantine rows (`mql quarantine list`)": {
        "id": "the quarantine entry's number",
        "import_run": "the import that put it there",
        "file": "the file the row came from",
        "line": "its line in that file (1 is the header of a CSV)",
        "field": "the field that could not be read, when one",
        "reason": "what was wrong and what to do",
        "raw": "the row as read, as JSON text",
        "created_at": "when it was quarantined (UTC)",
    },
    "Demo report (`mql demo --format json`, one object)": {
        "folder": "the demo workspace folder",
        "database": "the demo database URL",
        "model": "the demo model file",
        "imports": "counts of the leads and events imports (read, imported, "
        "updated, duplicates, quarantined)",
        "comparison": "contacts, converters, mqls, converters_caught, base_rate, "
        "mql_share, caught_share, precision, lift (shares from 0 to 1)",
        "cohorts": "the number of monthly waves judged",
        "at": "the instant of the top MQLs (UTC)",
        "mqls_at": "how many leads are MQLs at that instant",
        "top_mqls": "lead rows as above, each with `reasons` (rule, label, value)",
        "seconds": "how long the demo took",
    },
    "Rescore report (`mql rescore`, one row)": {
        "engine": "the engine that ran: duckdb, postgres or spark",
        "at": "the instant rescored at (UTC); events after it were left out",
        "leads": "how many leads were rescored and stored",
        "events": "how many events up to `at` were read",
        "mqls": "how many leads are MQLs at `at` after the rescore",
        "gained": "MQLs at `at` now that were not before the rescore",
        "lost": "MQLs at `at` before the rescore that no longer are",
        "seconds": "how long the rescore took, reading and writing the store included",
    },
    "Backtest period rows (`mql backtest`: `periods` in JSON, the rows of "
    "`--format csv`)": {
        "period_end": "the period end (UTC): --from, then every --every, and --to last",
        "model": "the model's file name without `.yaml`; `(current)` marks --against",
        "mqls": "how many leads were MQLs at the period end under that model",
        "gained": "MQLs at this period end that were not at the one before (all of "
        "them at the first)",
        "lost": "MQLs at the period end before that are not at this one",
    },
    "Backtest outcome rows (`mql backtest`: `outcomes` in JSON, `--format csv "
    "--outcomes`), one per model": {
        "model": "the model, as in the period rows",
        "converted": "leads with a conversion date (`converted_at`) in the store",
        "converted_from_start": "of those, how many converted at or after the first "
        "period end (`--from`): the conversions a model could have seen coming, "
        "the base to read `converted_were_mql` against",
        "converted_were_mql": "of those, how many were MQLs at a period end at or "
        "before converting",
        "median_days_earlier": "median days from the first period end at which "
        "such a lead was an MQL to its conversion, or null when none was",
        "mean_days_earlier": "the mean of the same days, or null",
        "mqls": "leads that were MQLs at one period end or more",
        "mqls_never_converted": "of those, how many have no conversion date",
    },
}
#: The counts an import prints, in this order.
IMPORT_COUNTS = ("read", "imported", "updated", "duplicates", "quarantined")


def import_counts(report: ImportReport) -> dict[str, int]:
    """The counts of an import report, in the order they are printed."""
    return {name: int(getattr(report, name)) for name in IMPORT_COUNTS}


def lead_record(row: LeadScoreRow) -> dict[str, Any]:
    """One lead's listing row."""
    return {name: getattr(row, name) for name in LEAD_FIELDS}


def lead_records(rows: Iterable[LeadScoreRow]) -> list[dict[str, Any]]:
    """Listing rows for many leads, in the order given."""
    return [lead_record(row) for row in rows]


def quarantine_records(rows: Iterable[QuarantineRow]) -> list[dict[str, Any]]:
    """Listing rows for quarantined input, ``raw`` as compact JSON text."""
    return [
        {
            "id": row.id,
            "import_run": row.import_run_id,
            "file": row.file,
            "line": row.line,
            "field": row.field,
            "reason": row.reason,
            "raw": json.dumps(plain(row.raw), ensure_ascii=False, sort_keys=True),
            "created_at": row.created_at,
        }
        for row in rows
    ]


def explanation_records(
    explained: LeadExplanation,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The lead's row (with ``at``) and one row per contribution of an explanation."""
    summary = lead_record(explained.lead)
    summary["at"] = explained.explanation.score.at
    entries = [
        {name: getattr(entry, name) for name in ENTRY_FIELDS}
        for entry in explained.explanation.entries
    ]
    return summary, entries


def explanation_json(summary: Mapping[str, Any], entries: list[dict[str, Any]]) -> str:
    """An explanation as one JSON object: the lead's fields, ``at`` and ``entries``."""
    body = {name: plain(value) for name, value in summary.items()}
    body["entries"] = [{k: plain(v) for k, v in entry.items()} for entry in entries]
    return json.dumps(body, indent=2, ensure_ascii=False)


def summary_line(summary: Mapping[str, Any]) -> str:
    """One line saying who, when, the score and whether it is an MQL."""
    status = "MQL" if summary["mql"] else "not an MQL"
    if summary["mql"] and summary["mql_until"] is not None:
        status += f" until {instant_text(summary['mql_until'])}"
    if summary.get("disqualified_reason"):
        status += f" (disqualified: {summary['disqualified_reason']})"
    name = summary.get("email") or summary.get("external_id") or summary["lead"]
    return (
        f"lead {name} (id:{summary['lead']}) at {instant_text(summary['at'])}: "
        f"score {summary['score']:.1f} (fit {summary['fit']:.1f}, intent "
        f"{summary['intent']:.1f}, grade {summary['grade']}), {status}"
    )


def instant_text(instant: datetime) -> str:
    """An instant as short UTC text (see :func:`mql.cli.output.short_instant`)."""
    return short_instant(instant)
