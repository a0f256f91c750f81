"""Recipes for the public lead data sets used to prove the learner on real outcomes.

Each recipe reads the file as published, marks what the data set's documentation
says is missing, and leaves out the columns that are filled in after a sales
contact (they would leak the outcome). The column options apply on top, as for
any file: ``features`` restricts the fields (naming a post-contact column keeps
it, declared post-contact, so the leakage guard refuses it unless allowed),
``exclude`` leaves fields out, ``post_contact`` declares more such fields and
``missing`` adds placeholder values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mql.errors import InputError
from mql.learn.data import LeadData, field_name, from_frame, read_table

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


def x_education(
    path: str | Path,
    *,
    features: Sequence[str] = (),
    exclude: Sequence[str] = (),
    post_contact: Sequence[str] = (),
    missing: Sequence[str] = (),
) -> LeadData:
    """X Education's Leads.csv without the columns sales fills in after contact."""
    frame = _read(path, ",", missing)
    return _prepare(
        frame,
        "Converted",
        path,
        (),
        (*X_EDUCATION_MISSING, *missing),
        X_EDUCATION_POST_CONTACT,
        features,
        exclude,
        post_contact,
    )


def bank_marketing(
    path: str | Path,
    *,
    features: Sequence[str] = (),
    exclude: Sequence[str] = (),
    post_contact: Sequence[str] = (),
    missing: Sequence[str] = (),
) -> LeadData:
    """UCI Bank Marketing (bank-full.csv) without ``duration``, plus the call period.

    The rows are in time order with month and day but no year; the year is
    inferred from the order (it goes up when the month goes down) and the
    ``call_period`` field (``2009-05``) names the campaign month.
    """
    frame = _read(path, ";", missing)
    if "month" not in frame.columns:
        raise InputError(
            f"{path}: no column 'month'; the bank-marketing recipe reads UCI's "
            "bank-full.csv (';'-separated)"
        )
    months = frame["month"].astype(str).str.strip().str.lower().map(MONTH_NUMBER)
    if months.isna().any():
        row = int(np.flatnonzero(months.isna().to_numpy())[0]) + 2
        raise InputError(
            f"{path}: row {row}: month {frame['month'].iloc[row - 2]!r} is not a "
            "three-letter month name (jan ... dec)"
        )
    years = BANK_FIRST_YEAR + (months.diff() < 0).cumsum()
    frame["call_period"] = [f"{y}-{m:02d}" for y, m in zip(years, months, strict=True)]
    return _prepare(
        frame,
        "y",
        path,
        ("yes",),
        tuple(missing),
        BANK_POST_CONTACT,
        features,
        exclude,
        post_contact,
    )


def recipe(
    name: str,
    path: str | Path,
    *,
    features: Sequence[str] = (),
    exclude: Sequence[str] = (),
    post_contact: Sequence[str] = (),
    missing: Sequence[str] = (),
) -> LeadData:
    """Read a public data set by recipe name (x-education or bank-marketing)."""
    options = {
        "features": features,
        "exclude": exclude,
        "post_contact": post_contact,
        "missing": missing,
    }
    if name == "x-education":
        return x_education(path, **options)
    if name == "bank-marketing":
        return bank_marketing(path, **options)
    raise InputError(f"unknown recipe {name!r}; choose one of {', '.join(RECIPES)}")


def _prepare(
    frame: pd.DataFrame,
    outcome: str,
    path: str | Path,
    positive: Sequence[str],
    missing: Sequence[str],
    leaky: Sequence[str],
    features: Sequence[str],
    exclude: Sequence[str],
    post_contact: Sequence[str],
) -> LeadData:
    """Leave out the recipe's post-contact columns (unless named as features),
    declare them and the caller's post-contact fields, and read the leads."""
    named = {field_name(f) for f in features}
    dropped = [c for c in leaky if c in frame.columns and field_name(c) not in named]
    return from_frame(
        frame.drop(columns=dropped),
        outcome,
        source=str(path),
        positive=positive,
        missing=missing,
        exclude=exclude,
        features=features,
        post_contact=(*leaky, *post_contact),
    )


def _read(path: str | Path, sep: str, missing: Sequence[str]) -> pd.DataFrame:
    return read_table(Path(path), sep, missing)
