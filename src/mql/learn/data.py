"""Leads with a known outcome, read from a file or from records, ready to learn from.

Column names are the model's field names as they are (``Lead Origin``), the
names the importer gives the attributes it keeps; options that name columns
(``--exclude lead_origin``) also accept them in snake case. Values listed as
missing (``--missing Select``) and empty text become missing values. Columns that
identify a row (every value distinct) are left out: they cannot generalise.
"""

from __future__ import annotations

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
    try:
        raw = pd.read_csv(
            path,
            sep=sep,
            engine="python" if sep is None else "c",
            na_values=list(missing),
            keep_default_na=True,
        )
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            f"{path}: cannot read the leads file ({exc.__class__.__name__}: {exc}); "
            "check the path and the separator (--sep ';')"
        ) from exc
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
