"""Listings printed as a Rich table, CSV or JSON, with stable field names.

Every listing is a sequence of records (mappings from field name to value) and the
ordered names of its fields. JSON and CSV keep the field names as they are; values are
made plain: instants as ISO 8601 in UTC ending in ``Z``, missing values as ``null``
(JSON) or the empty string (CSV). The table rounds numbers for reading.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from enum import Enum, StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

#: Decimal places shown for numbers in the table (CSV and JSON keep them all).
TABLE_DECIMALS = 1
#: Numbers below this get ``SMALL_DECIMALS`` when one decimal would hide a part.
SMALL = 10
SMALL_DECIMALS = 3
#: What the table shows for a missing value.
TABLE_MISSING = "-"

Record = Mapping[str, Any]


class OutputFormat(StrEnum):
    """How a listing is printed."""

    table = "table"
    csv = "csv"
    json = "json"


def plain(value: Any) -> Any:
    """A value as JSON can hold it: instants in UTC ISO 8601, enums by value.

    >>> plain(datetime(2024, 3, 1, 12, tzinfo=UTC))
    '2024-03-01T12:00:00Z'
    >>> plain(float("inf")) is None
    True
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple | list):
        return [plain(item) for item in value]
    return value


def to_json(records: Sequence[Record], fields: Sequence[str]) -> str:
    """The records as a JSON array of objects holding exactly ``fields``."""
    rows = [{name: plain(record.get(name)) for name in fields} for record in records]
    return json.dumps(rows, indent=2, ensure_ascii=False)


def to_csv(records: Sequence[Record], fields: Sequence[str]) -> str:
    """The records as CSV with a header line of ``fields``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for record in records:
        writer.writerow([_csv_cell(plain(record.get(name))) for name in fields])
    return buffer.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(str(item) for item in value)
    return value


def to_table(
    records: Sequence[Record], fields: Sequence[str], title: str | None = None
) -> Table:
    """The records as a Rich table, numbers rounded, missing values as ``-``.

    Columns with no value in any record are left out, to keep the table readable;
    CSV and JSON always hold every field.
    """
    table = Table(title=title, show_lines=False)
    if records:
        fields = [n for n in fields if any(r.get(n) is not None for r in records)]
    for name in fields:
        table.add_column(name, justify="right" if _numeric(records, name) else "left")
    for record in records:
        table.add_row(*(_table_cell(record.get(name)) for name in fields))
    return table


def _numeric(records: Sequence[Record], name: str) -> bool:
    values = [r.get(name) for r in records if r.get(name) is not None]
    return bool(values) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    )


def short_instant(value: datetime) -> str:
    """An instant for reading: UTC to the second, or the date alone at midnight.

    >>> short_instant(datetime(2025, 3, 31, 9, 5, 7, 250, tzinfo=UTC))
    '2025-03-31T09:05:07Z'
    >>> short_instant(datetime(2025, 3, 31, tzinfo=UTC))
    '2025-03-31'
    """
    text = str(plain(value.replace(microsecond=0)))
    return text.removesuffix("T00:00:00Z")


def _table_cell(value: Any) -> str:
    if isinstance(value, datetime):
        return short_instant(value)
    value = plain(value)
    if value is None:
        return TABLE_MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _number(value: float) -> str:
    """One decimal, or three for a small number that one decimal would hide.

    >>> _number(29.81), _number(0.9932), _number(1.0)
    ('29.8', '0.993', '1.0')
    """
    short = f"{value:.{TABLE_DECIMALS}f}"
    if abs(value) >= SMALL or float(short) == round(value, SMALL_DECIMALS):
        return short
    return f"{value:.{SMALL_DECIMALS}f}"


def emit(
    console: Console,
    records: Sequence[Record],
    fields: Sequence[str],
    fmt: OutputFormat,
    title: str | None = None,
) -> None:
    """Print a listing on the console in the chosen format."""
    if fmt is OutputFormat.json:
        console.out(to_json(records, fields), highlight=False)
    elif fmt is OutputFormat.csv:
        console.out(to_csv(records, fields), end="", highlight=False)
    else:
        console.print(to_table(records, fields, title=title))
