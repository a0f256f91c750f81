"""Recipes for the public lead data sets used to prove the learner on real outcomes.

Each recipe reads the file as published, marks what the data set's documentation
says is missing, and leaves out the columns that are filled in after a sales
contact (they would leak the outcome).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from mql.errors import InputError
from mql.learn.data import LeadData, from_frame

#: X Education columns the sales team fills in after contacting the lead.
X_EDUCATION_POST_CONTACT = (
    "Tags",
    "Lead Quality",
    "Lead Profile",
    "Asymmetrique Activity Index",
    "Asymmetrique Profile Index",
    "Asymmetrique Activity Score",
    "Asymmetrique Profile Score",
)
#: The web form's default answer, which means "not answered".
X_EDUCATION_MISSING = ("Select",)
#: Bank Marketing: the call's length is known only once the call is over.
BANK_POST_CONTACT = ("duration",)
#: The first call of bank-full.csv is in May 2008 (bank-names.txt).
BANK_FIRST_YEAR = 2008
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov")
MONTH_NUMBER = {name: i + 1 for i, name in enumerate((*MONTHS, "dec"))}

RECIPES = ("x-education", "bank-marketing")


def x_education(path: str | Path) -> LeadData:
    """X Education's Leads.csv without the columns sales fills in after contact."""
    frame = _read(path, sep=",")
    return from_frame(
        frame.drop(columns=list(X_EDUCATION_POST_CONTACT)),
        "Converted",
        source=str(path),
        missing=X_EDUCATION_MISSING,
        post_contact=X_EDUCATION_POST_CONTACT,
    )


def bank_marketing(path: str | Path) -> LeadData:
    """UCI Bank Marketing (bank-full.csv) without ``duration``, plus the call period.

    The rows are in time order with month and day but no year; the year is
    inferred from the order (it goes up when the month goes down) and the
    ``call_period`` field (``2009-05``) names the campaign month.
    """
    frame = _read(path, sep=";")
    months = frame["month"].str.strip().str.lower().map(MONTH_NUMBER)
    if months.isna().any():
        row = int(np.flatnonzero(months.isna().to_numpy())[0]) + 2
        raise InputError(
            f"{path}: row {row}: month {frame['month'].iloc[row - 2]!r} is not a "
            "three-letter month name (jan ... dec)"
        )
    years = BANK_FIRST_YEAR + (months.diff() < 0).cumsum()
    frame["call_period"] = [f"{y}-{m:02d}" for y, m in zip(years, months, strict=True)]
    return from_frame(
        frame.drop(columns=list(BANK_POST_CONTACT)),
        "y",
        source=str(path),
        positive=("yes",),
        post_contact=BANK_POST_CONTACT,
    )


def recipe(name: str, path: str | Path) -> LeadData:
    """Read a public data set by recipe name (x-education or bank-marketing)."""
    if name == "x-education":
        return x_education(path)
    if name == "bank-marketing":
        return bank_marketing(path)
    raise InputError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}")


def _read(path: str | Path, sep: str) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=sep)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            f"{path}: cannot read the file ({exc.__class__.__name__}: {exc})"
        ) from exc
