"""The UCI Bank Marketing data turned into a CRM-style leads file and events file.

The shipped file has one row per client contacted in a Portuguese bank's phone
campaigns, in time order from May 2008 to November 2010, with the day and month of
the last call but no year. The year is inferred from the order: it starts at 2008
and goes up by one each time the month goes down (December to January). On this
file that gives dates that never go backwards, from 2008-05-05 to 2010-11-17.

Each row becomes one lead (external id = the 1-based row number) and up to two
events:

- ``campaign_call``: the last call of the current campaign, on its date, with the
  channel (``cellular``, ``telephone``, ``unknown``) and the number of calls made to
  this client in the campaign (``calls``, the last one included);
- ``previous_campaign_call``: the last call of an earlier campaign, ``pdays`` days
  before, with that campaign's outcome (``failure``, ``other``, ``success``) and its
  number of calls (``calls``); only when the client was called before (pdays > 0).

The ``duration`` column is left out on purpose: a call's length is only known after
the call and gives the outcome away. The outcome ``y`` (a term deposit subscribed)
is kept in the leads file as ``subscribed`` so that results can be compared with
it, and a subscriber's ``subscribed_on`` is the day of that campaign's last call (the
conversion date that backtests compare MQLs with); the demo model reads neither.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import pandas as pd

from mql.errors import InputError

logger = logging.getLogger(__name__)

#: The year of the first row, from the data set's description ("May 2008 to Nov 2010").
FIRST_YEAR = 2008
MONTHS = (
    *("jan", "feb", "mar", "apr", "may", "jun"),
    *("jul", "aug", "sep", "oct", "nov", "dec"),
)
#: ``pdays`` is -1 for a client never called in an earlier campaign.
NOT_CALLED_BEFORE = -1
DATA_DIR = "bank-marketing"
RAW_FILE = "bank-full.csv.gz"
#: Columns the raw file must have (``duration`` is read by nobody).
RAW_COLUMNS = (
    "age",
    "job",
    "marital",
    "education",
    "default",
    "balance",
    "housing",
    "loan",
    "contact",
    "day",
    "month",
    "campaign",
    "pdays",
    "previous",
    "poutcome",
    "y",
)
LEAD_COLUMNS = {
    "age": "age",
    "job": "job",
    "marital": "marital",
    "education": "education",
    "default": "credit_default",
    "balance": "balance_eur",
    "housing": "housing_loan",
    "loan": "personal_loan",
}


@dataclass(frozen=True)
class BankFiles:
    """The files made from the bank data: leads, events, and their counts."""

    leads: Path
    events: Path
    lead_count: int
    event_count: int
    first_day: date
    last_day: date


def data_path(name: str) -> Path:
    """A file shipped with the bank demo (raw data, mappings, model)."""
    ref = resources.files("mql") / "data" / DATA_DIR / name
    return Path(str(ref))


def read_raw(path: Path | None = None) -> pd.DataFrame:
    """Read the raw semicolon-separated file (gzip or plain) and check its columns."""
    path = path or data_path(RAW_FILE)
    try:
        frame = pd.read_csv(path, sep=";")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(
            f"{path}: cannot read the bank marketing file "
            f"({exc.__class__.__name__}: {exc}); reinstall mql to restore it"
        ) from exc
    missing = [c for c in RAW_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"{path}: columns {missing} are missing (found {list(frame.columns)}); "
            "expected the UCI bank-full.csv layout, separated by ';'"
        )
    return frame


def infer_dates(frame: pd.DataFrame) -> pd.Series:
    """The date of each row's last call, the year inferred from the row order.

    >>> frame = pd.DataFrame({"day": [30, 2, 15], "month": ["dec", "jan", "jan"]})
    >>> [d.isoformat() for d in infer_dates(frame)]
    ['2008-12-30', '2009-01-02', '2009-01-15']
    """
    lookup = {name: number for number, name in enumerate(MONTHS, start=1)}
    months = frame["month"].str.lower().map(lookup)
    if months.isna().any():
        row = int(months.isna().to_numpy().argmax()) + 1
        raise InputError(
            f"row {row}: month {frame['month'].iloc[row - 1]!r} is not one of "
            f"{', '.join(MONTHS)}"
        )
    years = FIRST_YEAR + (months.diff() < 0).cumsum()
    days = [
        _day(int(y), int(m), int(d), row)
        for row, (y, m, d) in enumerate(
            zip(years, months, frame["day"], strict=True), start=1
        )
    ]
    return pd.Series(days, index=frame.index, name="date")


def _day(year: int, month: int, day: int, row: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise InputError(
            f"row {row}: day {day} of month {month} in {year} is not a date ({exc}); "
            "the rows must be in time order for the year to be inferred"
        ) from exc


def leads_frame(frame: pd.DataFrame, dates: pd.Series) -> pd.DataFrame:
    """One lead per row: external id, the client's attributes and the outcome, with
    the day of the campaign's last call as the day a subscriber subscribed."""
    leads = frame[list(LEAD_COLUMNS)].rename(columns=LEAD_COLUMNS)
    leads.insert(0, "client_id", range(1, len(frame) + 1))
    leads["subscribed"] = frame["y"].str.lower()
    days = dates.map(date.isoformat)
    leads["subscribed_on"] = days.where(leads["subscribed"] == "yes", "")
    return leads


def events_frame(frame: pd.DataFrame, dates: pd.Series) -> pd.DataFrame:
    """The last call of each row's campaign and, when there was one, of the previous."""
    ids = pd.Series(range(1, len(frame) + 1), index=frame.index)
    current = pd.DataFrame(
        {
            "event_id": "call-" + ids.astype(str),
            "client_id": ids,
            "type": "campaign_call",
            "date": dates.map(date.isoformat),
            "channel": frame["contact"],
            "calls": frame["campaign"],
            "outcome": "",
        }
    )
    before = frame["pdays"] > 0
    stamps = pd.to_datetime(dates[before])
    earlier = stamps - pd.to_timedelta(frame.loc[before, "pdays"], unit="D")
    previous = pd.DataFrame(
        {
            "event_id": "prev-" + ids[before].astype(str),
            "client_id": ids[before],
            "type": "previous_campaign_call",
            "date": earlier.dt.strftime("%Y-%m-%d"),
            "channel": "",
            "calls": frame.loc[before, "previous"],
            "outcome": frame.loc[before, "poutcome"],
        }
    )
    events = pd.concat([current, previous], ignore_index=True)
    return events.sort_values(["date", "client_id"], kind="stable", ignore_index=True)


def write_files(folder: Path, raw: Path | None = None) -> BankFiles:
    """Write ``bank-leads.csv`` and ``bank-events.csv`` into a folder."""
    frame = read_raw(raw)
    dates = infer_dates(frame)
    folder.mkdir(parents=True, exist_ok=True)
    leads, events = leads_frame(frame, dates), events_frame(frame, dates)
    leads_path, events_path = folder / "bank-leads.csv", folder / "bank-events.csv"
    leads.to_csv(leads_path, index=False)
    events.to_csv(events_path, index=False)
    logger.info(
        "bank data: %d leads, %d events, %s to %s",
        len(leads),
        len(events),
        dates.min(),
        dates.max(),
    )
    return BankFiles(
        leads=leads_path,
        events=events_path,
        lead_count=len(leads),
        event_count=len(events),
        first_day=dates.min(),
        last_day=dates.max(),
    )
