"""Leads with a known outcome, read from a file or from records, ready to learn from.

Column names are the model's field names as they are (``Lead Origin``), the
names the importer gives the attributes it keeps; options that name columns
(``--exclude lead_origin``) also accept them in snake case. Values listed as
missing (``--missing Select``) and empty text become missing values. Columns that
identify a row (every value distinct) are left out: they cannot generalise.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mql.errors import InputError

logger = logging.getLogger(__name__)

#: Outcome values read as "converted" when no positive value is named.
DEFAULT_POSITIVES = ("1", "1.0", "true", "yes", "y", "converted", "won")
#: Outcome values read as "not converted" when no positive value is named; any
#: other value is refused then (with --positive, every other value means no).
DEFAULT_NEGATIVES = ("0", "0.0", "false", "no", "n", "not converted", "lost")
#: Bytes read from the start of a file to tell whether it is delimited text.
SNIFF_BYTES = 4096
#: File name endings pandas decompresses by itself.
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".zip", ".xz", ".zst", ".tar")
#: A text column with more distinct values than this share of rows is an identifier.
ID_DISTINCT_SHARE = 0.9
#: Rows needed at the least to learn anything.
MIN_ROWS = 20


def field_name(column: str) -> str:
    """A column's name in snake case: letters, digits, ``.`` and ``_`` (rule ids).

    >>> field_name("Total Time Spent on Website")
    'total_time_spent_on_website'
    >>> field_name("account.industry")
    'account.industry'
    """
    name = re.sub(r"[^0-9a-zA-Z.]+", "_", column.strip()).strip("_").lower()
    return name or "column"


@dataclass(frozen=True)
class LeadData:
    """Leads (one row each, columns are model fields) and their outcome (0 or 1)."""

    frame: pd.DataFrame
    outcome: np.ndarray[Any, np.dtype[np.int_]]
    source: str
    outcome_name: str = "converted"
    post_contact: tuple[str, ...] = ()
    missing_values: tuple[str, ...] = field(default=())

    @property
    def features(self) -> list[str]:
        """The candidate feature fields, in column order."""
        return list(self.frame.columns)

    @property
    def positives(self) -> int:
        """How many leads converted."""
        return int(self.outcome.sum())

    def subset(self, rows: np.ndarray[Any, Any]) -> LeadData:
        """The same data restricted to some row positions."""
        return LeadData(
            frame=self.frame.iloc[rows].reset_index(drop=True),
            outcome=self.outcome[rows],
            source=self.source,
            outcome_name=self.outcome_name,
            post_contact=self.post_contact,
            missing_values=self.missing_values,
        )

    def records(self) -> list[dict[str, Any]]:
        """Each lead's attributes as a mapping, missing values as None."""
        frame = self.frame.astype(object).where(self.frame.notna(), None)
        return [dict(row) for row in frame.to_dict(orient="records")]


def read_leads(
    path: str | Path,
    outcome: str,
    *,
    positive: Sequence[str] = (),
    sep: str | None = None,
    missing: Sequence[str] = (),
    exclude: Sequence[str] = (),
    features: Sequence[str] = (),
    post_contact: Sequence[str] = (),
) -> LeadData:
    """Read leads with a known outcome from a CSV file (any separator).

    ``outcome`` names the column that says whether the lead converted;
    ``positive`` lists the values that mean yes (default: 1, true, yes, ...).
    """
    path = Path(path)
    raw = read_table(path, sep, missing)
    return from_frame(
        raw,
        outcome,
        source=str(path),
        positive=positive,
        missing=missing,
        exclude=exclude,
        features=features,
        post_contact=post_contact,
    )


def read_table(
    path: Path, sep: str | None = None, missing: Sequence[str] = ()
) -> pd.DataFrame:
    """A delimited text file as a frame of text and numbers, with one clear error
    for a file that is empty, has no rows or is not delimited text."""
    _check_text(path)
    try:
        raw = pd.read_csv(
            path,
            sep=sep,
            engine="python" if sep is None else "c",
            na_values=list(missing),
            keep_default_na=True,
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError(
            f"{path}: the file is empty; a leads file has a header row and one "
            "row per lead"
        ) from exc
    except csv.Error as exc:
        raise InputError(
            f"{path}: cannot tell the columns apart ({exc}); a leads file is "
            "delimited text with a header row: give the separator with --sep"
        ) from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            f"{path}: cannot read the leads file ({exc.__class__.__name__}: {exc}); "
            "check the path and the separator (--sep ';')"
        ) from exc
    if len(raw) == 0:
        raise InputError(
            f"{path}: a header row ({', '.join(map(str, raw.columns))}) but no "
            "leads; a leads file has one row per lead under its header"
        )
    return raw


def _check_text(path: Path) -> None:
    """Refuse, with what the file looks like, a file that is not delimited text."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(
            f"{path}: cannot read the leads file ({exc.__class__.__name__}: {exc}); "
            "check the path"
        ) from exc
    if not head.strip():
        raise InputError(
            f"{path}: the file is empty; a leads file has a header row and one "
            "row per lead"
        )
    if path.name.lower().endswith(COMPRESSED_SUFFIXES):
        return  # pandas decompresses it by its name
    what = _binary_kind(head)
    if what is not None:
        raise InputError(
            f"{path}: not a delimited text file ({what}); give the leads as CSV "
            "text with a header row"
        )


def _binary_kind(head: bytes) -> str | None:
    """What the first bytes of a file that is not delimited text look like."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip-compressed data: decompress it, or name it .gz"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive or a spreadsheet workbook: export the sheet as CSV"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text: save it as UTF-8"
    if b"\x00" in head:
        return "binary data"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    opening = text[:1] == b"{" or re.match(rb"\[\s*[\[{\"\]]", text) is not None
    if opening:
        return "JSON: export the leads as CSV"
    return None


def from_records(
    records: Iterable[Mapping[str, Any]],
    outcome: str = "converted",
    *,
    source: str = "<records>",
    positive: Sequence[str] = (),
    exclude: Sequence[str] = (),
    features: Sequence[str] = (),
    post_contact: Sequence[str] = (),
) -> LeadData:
    """Leads given as mappings of attributes plus the outcome (e.g. from the store)."""
    frame = pd.DataFrame.from_records(list(records))
    return from_frame(
        frame,
        outcome,
        source=source,
        positive=positive,
        exclude=exclude,
        features=features,
        post_contact=post_contact,
    )


def from_frame(
    raw: pd.DataFrame,
    outcome: str,
    *,
    source: str = "<frame>",
    positive: Sequence[str] = (),
    missing: Sequence[str] = (),
    exclude: Sequence[str] = (),
    features: Sequence[str] = (),
    post_contact: Sequence[str] = (),
) -> LeadData:
    """Leads from a data frame: name the fields, read the outcome, drop identifiers."""
    if len(raw) == 0:
        raise InputError(f"{source}: no leads (no rows) to learn from")
    raw = raw.loc[:, [c for c in raw.columns if not raw[c].isna().all()]]
    renamed = raw.rename(columns={c: str(c) for c in raw.columns})
    target = _column(renamed, outcome)
    if target is None:
        raise InputError(
            f"{source}: no outcome column {outcome!r}; the columns are "
            f"{', '.join(map(str, raw.columns))}. Name it with --outcome"
        )
    y = _outcome(renamed[target], positive, source, outcome)
    frame = renamed.drop(columns=[target])
    frame = _choose(frame, features, exclude, source)
    frame = _clean(frame, missing)
    if len(frame) < MIN_ROWS:
        raise InputError(
            f"{source}: {len(frame)} leads; learning needs at least {MIN_ROWS}"
        )
    declared = tuple(c for c in frame.columns if _named(c, post_contact))
    declared += tuple(c for c in post_contact if _column(frame, c) is None)
    return LeadData(frame, y, source, target, declared, tuple(missing))


def _named(column: str, names: Sequence[str]) -> bool:
    """Whether one of ``names`` names the column, as it is or in snake case."""
    return field_name(column) in {field_name(n) for n in names}


def _column(frame: pd.DataFrame, name: str) -> str | None:
    if name in frame.columns:
        return name
    return next((c for c in frame.columns if _named(c, [name])), None)


def _outcome(
    column: pd.Series[Any], positive: Sequence[str], source: str, name: str
) -> np.ndarray[Any, np.dtype[np.int_]]:
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0]) + 2
        raise InputError(
            f"{source}: row {row} has no value in the outcome column {name!r}; "
            "learn only from leads whose outcome is known (filter the file first)"
        )
    text = column.astype(str).str.strip().str.casefold()
    if not positive:
        known = {v.casefold() for v in (*DEFAULT_POSITIVES, *DEFAULT_NEGATIVES)}
        odd = ~text.isin(known).to_numpy()
        if odd.any():
            index = int(np.flatnonzero(odd)[0])
            raise InputError(
                f"{source}: row {index + 2}: the outcome column {name!r} has "
                f"{str(column.iloc[index]).strip()!r}, which is neither a yes "
                f"({', '.join(DEFAULT_POSITIVES)}) nor a no "
                f"({', '.join(DEFAULT_NEGATIVES)}); name the values that mean "
                "converted with --positive (every other value then counts as not "
                "converted), or fix the file"
            )
    yes = {p.strip().casefold() for p in (positive or DEFAULT_POSITIVES)}
    y: np.ndarray[Any, np.dtype[np.int_]] = text.isin(yes).to_numpy().astype(np.int_)
    if y.min() == y.max():
        raise InputError(
            f"{source}: every lead has the same outcome in {name!r} "
            f"(values seen: {sorted(set(text))[:5]}); name the converted value "
            "with --positive, or add leads of the other outcome"
        )
    return y


def _choose(
    frame: pd.DataFrame, features: Sequence[str], exclude: Sequence[str], source: str
) -> pd.DataFrame:
    wanted = [_column(frame, f) or f for f in features] or list(frame.columns)
    unknown = sorted(set(wanted) - set(frame.columns))
    if unknown:
        raise InputError(
            f"{source}: no column for the features {unknown}; the fields are "
            f"{', '.join(frame.columns)}"
        )
    kept = [c for c in wanted if not _named(c, exclude)]
    if not features:
        kept = [c for c in kept if not _is_identifier(frame[c])]
    return frame.loc[:, kept]


def _is_identifier(column: pd.Series[Any]) -> bool:
    distinct = column.nunique(dropna=True)
    if distinct <= ID_DISTINCT_SHARE * len(column):
        return False
    logger.info(
        "leaving out %s: an identifier (%d distinct values)", column.name, distinct
    )
    return True


def _clean(frame: pd.DataFrame, missing: Sequence[str]) -> pd.DataFrame:
    out: dict[str, pd.Series[Any]] = {}
    blanks = {m.strip().casefold() for m in missing} | {""}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            column = column.map({True: "true", False: "false"})
        if pd.api.types.is_numeric_dtype(column):
            out[name] = column.astype(float)
            continue
        cleaned = [_text(v, blanks) for v in column.astype(object)]
        out[name] = pd.Series(cleaned, index=frame.index, dtype=object)
    return pd.DataFrame(out, index=frame.index)


def _text(value: Any, blanks: set[str]) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return None if text.casefold() in blanks else text
