"""Turning source rows into typed field values, attributes and quarantine entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mql.errors import InputError
from mql.ingest.mapping import (
    DEFAULT_ALIASES,
    EVENT_FIELDS,
    LEAD_FIELDS,
    Column,
    Kind,
    Mapping,
)
from mql.ingest.readers import Source, SourceRow
from mql.ingest.values import CellError, NaiveTimeError, Reader


@dataclass
class Problem:
    """Why one row went to quarantine."""

    line: int
    field: str | None
    reason: str
    raw: Any


@dataclass
class Prepared:
    """A row read as its fields (typed) and its free attributes or properties."""

    line: int
    raw: Any
    fields: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    #: The row's cells by column, as read from the file (before any typing).
    cells: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """Which column feeds each field, and which go to attributes or properties."""

    fields: dict[str, Column]
    extra: dict[str, Column]
    #: Whether a mapping file was given (error messages differ without one).
    mapped: bool = True


def plan(source: Source, mapping: Mapping, kind: Kind) -> Plan:
    """Resolve the mapping against the file's columns (explicit, then by alias)."""
    known = LEAD_FIELDS if kind == "leads" else EVENT_FIELDS
    mapping.check_fields(kind, str(source.path))
    fields = dict(mapping.fields)
    used = {spec.column for spec in (*fields.values(), *mapping.extra.values())}
    _check_columns(source, used | set(mapping.event_key or ()))
    by_alias = {_alias_key(c): c for c in source.columns if c not in used}
    for name in known:
        if name in fields:
            continue
        column = next(
            (by_alias[a] for a in DEFAULT_ALIASES[name] if a in by_alias), None
        )
        if column is not None and column not in used:
            fields[name] = Column(column=column)
            used.add(column)
    extra = dict(mapping.extra)
    if mapping.keep_other_columns:
        for column in source.columns:
            if column not in used and column not in extra:
                extra[column] = Column(column=column)
    return Plan(fields=fields, extra=extra)


def _alias_key(column: str) -> str:
    return column.strip().lower().replace(" ", "_")


def _check_columns(source: Source, used: set[str]) -> None:
    if source.format == "jsonl":
        # JSON Lines has no header: a key missing on a line is an empty value.
        return
    missing = sorted(used - set(source.columns))
    if missing:
        raise InputError(
            f"{source.path}: the mapping names column(s) {missing} that the file "
            f"does not have; its columns are {source.columns}"
        )


def prepare(
    row: SourceRow, plan_: Plan, reader: Reader, kind: Kind, path: str
) -> Prepared | Problem:
    """Read one row's cells; a cell that cannot be read makes a Problem."""
    if row.error is not None:
        return Problem(row.line, None, row.error, row.raw)
    types = LEAD_FIELDS if kind == "leads" else EVENT_FIELDS
    out = Prepared(line=row.line, raw=row.raw, fields={}, cells=row.values)
    for name, spec in plan_.fields.items():
        value = _cell(row, spec, spec.type or types[name], reader, name, path)
        if isinstance(value, _Naive):
            raise _naive_error(path, row, name, spec, plan_.mapped)
        if isinstance(value, Problem):
            return value
        out.fields[name] = value
    for name, spec in plan_.extra.items():
        value = _cell(row, spec, spec.type or "text", reader, name, path)
        if isinstance(value, _Naive):
            raise _naive_error(path, row, name, spec, plan_.mapped)
        if isinstance(value, Problem):
            return value
        if value is not None:
            out.extra[name] = value
    return out


def _cell(
    row: SourceRow, spec: Column, kind: Any, reader: Reader, name: str, path: str
) -> Any:
    raw = row.values.get(spec.column)
    try:
        return reader.read(raw, kind, spec)
    except CellError as exc:
        return Problem(row.line, name, f"column {spec.column!r}: {exc}", row.raw)
    except NaiveTimeError:
        return _Naive()


class _Naive:
    """A timestamp without a zone while the mapping declares none."""


def _naive_error(
    path: str, row: SourceRow, name: str, spec: Column, mapped: bool
) -> InputError:
    raw = row.values.get(spec.column)
    where = f"{path}:{row.line}: field {name!r} (column {spec.column!r}): {raw!r}"
    zone = "the zone the export was written in, e.g. Europe/London"
    if mapped:
        fix = f"add `timezone: UTC` (or {zone}) to the mapping"
    else:
        fix = (
            "write a mapping file with the line `timezone: UTC` (or "
            f"{zone}) and pass it with --mapping FILE (see docs/import.md)"
        )
    given = "the mapping declares none" if mapped else "no mapping declares one"
    return InputError(
        f"{where} has no time zone and {given}; {fix}. Nothing was imported."
    )
