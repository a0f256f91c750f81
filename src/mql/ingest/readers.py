"""Reading export files into rows: CSV/TSV, JSON Lines and Parquet.

Each row keeps the physical line it starts on (for CSV, counted in the file even
when a quoted cell spans several lines) so quarantine can point at it.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import CharsetMatch, from_bytes

from mql.errors import InputError
from mql.ingest.mapping import Mapping

#: The encoding chosen when the detector finds it as plausible as its best guess:
#: the Windows code page of Western Europe and the Americas, which spreadsheets and
#: CRMs there write. (Without this, Western text ties with cp1250 and "ñ" becomes "ń".)
PREFERRED_ON_TIE = "cp1252"
#: Delimiters recognised on the header line when none is declared.
DELIMITERS = (",", ";", "\t", "|")
#: The first line Excel writes to name a CSV file's delimiter, e.g. ``sep=;``.
_SEP_LINE = re.compile(r"^sep=(.)\r?\n?$")
FORMATS_BY_SUFFIX = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}

#: Spreadsheet workbooks, which mql does not read: saved as CSV they import.
SPREADSHEET_SUFFIXES = frozenset((".xlsx", ".xlsm", ".xls", ".ods", ".numbers"))


@dataclass
class SourceRow:
    """One record of the source: its line (or row number) and its cells by column."""

    line: int
    values: dict[str, Any]
    raw: Any
    error: str | None = None


@dataclass
class Source:
    """An opened export: its columns, its rows, and notes about how it was read."""

    path: Path
    format: str
    columns: list[str]
    rows: list[SourceRow]
    notes: list[str] = field(default_factory=list)


def read_source(path: str | Path, mapping: Mapping) -> Source:
    """Open an export file as the mapping says, detecting what it leaves out."""
    path = Path(path)
    fmt = mapping.format or FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None and path.suffix.lower() in SPREADSHEET_SUFFIXES:
        raise InputError(
            f"{path}: a spreadsheet; save the sheet as CSV (File > Save As > CSV "
            "UTF-8) and import the .csv file"
        )
    if fmt is None:
        raise InputError(
            f"{path}: cannot tell the format from the suffix {path.suffix!r}; "
            "use .csv, .tsv, .jsonl or .parquet, or set format: in the mapping"
        )
    if fmt == "parquet":
        return _read_parquet(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the file ({exc}); check the path"
        ) from exc
    text, notes = decode(data, mapping.encoding, path)
    if fmt == "jsonl":
        source = _read_jsonl(path, text)
    else:
        source = _read_delimited(path, text, mapping, tab=fmt == "tsv")
    source.notes[:0] = notes
    return source


def decode(data: bytes, declared: str | None, path: Path) -> tuple[str, list[str]]:
    """The file's text: declared encoding, else UTF-8 (with or without BOM), else
    the encoding charset-normalizer finds, with a note saying so."""
    if declared is not None:
        try:
            return data.decode(declared), []
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: the file is not valid {declared} (byte {exc.start}); "
                "fix encoding: in the mapping, or remove it to detect the encoding"
            ) from exc
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Spreadsheets save "Unicode text" as UTF-16 with a byte-order mark.
        return data.decode("utf-16"), [f"{path.name}: read as UTF-16 (byte-order mark)"]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    best = _detect(data)
    if best is None:
        raise InputError(
            f"{path}: the file is not UTF-8 and its encoding cannot be detected; "
            "declare it with encoding: in the mapping (e.g. cp1252)"
        )
    return str(best), [
        f"{path.name} is not UTF-8; read it as {best.encoding} (detected). "
        "Declare encoding: in the mapping to be sure."
    ]


def _detect(data: bytes) -> CharsetMatch | None:
    """The detector's best guess, or cp1252 when that is exactly as plausible."""
    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if (
            match.encoding == PREFERRED_ON_TIE
            and match.chaos == best.chaos
            and match.coherence == best.coherence
        ):
            return match
    return best


def detect_delimiter(header: str) -> str:
    """The candidate delimiter that occurs most often outside quotes on the header."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_delimited(path: Path, text: str, mapping: Mapping, tab: bool) -> Source:
    lines = io.StringIO(text, newline="")
    first = next(iter(io.StringIO(text, newline="")), "")
    skipped = 0
    declared = _SEP_LINE.match(first)
    if declared:
        # Excel's "sep=;" line names the delimiter; it is not the header.
        next(lines)
        skipped = 1
    delimiter = (
        mapping.delimiter
        or (declared[1] if declared else None)
        or ("\t" if tab else detect_delimiter(first))
    )
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: the file is empty; expected a header line") from None
    columns, kept = _header(path, header)
    notes = []
    if delimiter != ",":
        notes.append(f"{path.name}: columns separated by {delimiter!r}")
    rows: list[SourceRow] = []
    previous_end = reader.line_num + skipped
    try:
        for cells in reader:
            start, previous_end = previous_end + 1, reader.line_num + skipped
            if not cells or all(not c.strip() for c in cells):
                continue
            rows.append(_delimited_row(start, cells, columns, kept, len(header)))
    except csv.Error as exc:
        raise InputError(
            f"{path}:{reader.line_num + skipped}: cannot split the file into cells "
            f"({exc}); check quoting, or declare delimiter: in the mapping"
        ) from exc
    return Source(path=path, format="csv", columns=columns, rows=rows, notes=notes)


def _header(path: Path, header: list[str]) -> tuple[list[str], list[int]]:
    """Column names and their positions; blank trailing headers are dropped."""
    names = [h.strip() for h in header]
    kept = [i for i, name in enumerate(names) if name]
    columns = [names[i] for i in kept]
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            raise InputError(
                f"{path}:1: column {name!r} appears twice in the header; rename one"
            )
        seen.add(name)
    return columns, kept


def _delimited_row(
    line: int, cells: list[str], columns: list[str], kept: list[int], width: int
) -> SourceRow:
    values = {
        name: cells[i] if i < len(cells) else ""
        for name, i in zip(columns, kept, strict=True)
    }
    row = SourceRow(line=line, values=values, raw=cells)
    extra = [c for i, c in enumerate(cells) if i >= width or i not in kept]
    if any(c.strip() for c in extra):
        row.error = (
            f"the row has {len(cells)} cells but the header names {len(columns)} "
            "columns; a value sits under no header (check the delimiter and quoting)"
        )
    return row


def _read_jsonl(path: Path, text: str) -> Source:
    rows: list[SourceRow] = []
    columns: dict[str, None] = {}
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if not line.strip():
            continue
        row = SourceRow(line=number, values={}, raw=line.rstrip("\r\n"))
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            row.error = f"not valid JSON ({exc.msg} at column {exc.colno})"
        else:
            if isinstance(value, dict):
                row.values = value
                row.raw = value
                columns.update(dict.fromkeys(value))
            else:
                row.error = (
                    f"expected a JSON object per line, got {type(value).__name__}"
                )
        rows.append(row)
    return Source(path=path, format="jsonl", columns=list(columns), rows=rows)


def _read_parquet(path: Path) -> Source:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot read as Parquet ({exc})") from exc
    # Parquet has no lines; the 1-based row number stands in for one.
    rows = [
        SourceRow(line=i, values=record, raw=record)
        for i, record in enumerate(table.to_pylist(), start=1)
    ]
    return Source(path=path, format="parquet", columns=table.column_names, rows=rows)
