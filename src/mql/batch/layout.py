"""The tables the batch engine reads, and how to build them from Python values.

Events: one row per event with ``lead`` (text), ``id`` (text), ``type`` (text),
``at`` (UTC timestamp), ``ts`` (the same instant as float epoch seconds, which
every engine reads the same way) and one text column per event property the model
uses, named after the property (``url``, ``asset``, ``channel``...).

Leads: one row per lead with ``lead`` and one text column per attribute the model
uses, named after it (``title``, ``employees``, ``account.industry``...), plus
``converted_at`` (UTC timestamp, may be null) for backtests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from mql.errors import InputError
from mql.model.schema import Model

LEAD_KEY = "lead"
EVENT_CORE = (LEAD_KEY, "id", "type", "at", "ts")
CONVERTED_AT = "converted_at"
LEAD_CORE = (LEAD_KEY, CONVERTED_AT)
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

#: (lead, event id, type, at, properties)
EventRow = tuple[str, str, str, dt.datetime, Mapping[str, Any]]


def column_map(columns: Sequence[str], reserved: Sequence[str]) -> dict[str, str]:
    """Field name to column name for every non-core column of a table."""
    return {c: c for c in columns if c not in reserved}


def event_properties(model: Model) -> list[str]:
    """The event properties the model reads: ``where`` fields and ``once_per`` keys."""
    names = {field for rule in model.intent for field in rule.where}
    names |= {r.repeat.key for r in model.intent if r.repeat.key}
    return sorted(names)


def lead_attributes(model: Model) -> list[str]:
    """The lead and account attributes the model reads (fit and disqualifiers)."""
    rules = [*model.fit, *model.disqualifiers]
    return sorted({field for rule in rules for field in rule.when})


def as_text(value: Any) -> str | None:
    """A property or attribute value as the engine's text (booleans lower-case)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def epoch_seconds(at: dt.datetime, what: str = "at") -> float:
    """Seconds since the epoch of an aware instant; naive times are refused."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError(
            f"{what} {at.isoformat()} has no time zone; give an aware instant "
            "such as 2025-01-31T00:00:00+00:00"
        )
    return at.timestamp()


def events_table(rows: Iterable[EventRow], properties: Sequence[str]) -> pa.Table:
    """The engine's events table from (lead, id, type, at, properties) rows."""
    cols: dict[str, list[Any]] = {name: [] for name in (*EVENT_CORE, *properties)}
    for lead, event_id, kind, at, props in rows:
        cols[LEAD_KEY].append(lead)
        cols["id"].append(event_id)
        cols["type"].append(kind)
        cols["ts"].append(epoch_seconds(at, f"event {event_id!r} at"))
        cols["at"].append(at.astimezone(dt.UTC))
        for name in properties:
            cols[name].append(as_text(props.get(name)))
    types = {"ts": pa.float64(), "at": UTC_TIMESTAMP}
    return pa.table(
        {
            name: pa.array(vals, types.get(name, pa.string()))
            for name, vals in cols.items()
        }
    )


def leads_table(
    rows: Iterable[tuple[str, Mapping[str, Any]]],
    attributes: Sequence[str],
    converted_at: Mapping[str, dt.datetime] | None = None,
) -> pa.Table:
    """The engine's leads table from (lead, attributes) rows."""
    converted = converted_at or {}
    cols: dict[str, list[Any]] = {name: [] for name in (*LEAD_CORE, *attributes)}
    for lead, attrs in rows:
        cols[LEAD_KEY].append(lead)
        cols[CONVERTED_AT].append(converted.get(lead))
        for name in attributes:
            cols[name].append(as_text(attrs.get(name)))
    types = {CONVERTED_AT: UTC_TIMESTAMP}
    return pa.table(
        {
            name: pa.array(vals, types.get(name, pa.string()))
            for name, vals in cols.items()
        }
    )
