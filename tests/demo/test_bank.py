"""The bank data turned into a leads file and an events file."""

from __future__ import annotations

import csv
import gzip
import hashlib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from mql.demo.bank import (
    RAW_FILE,
    data_path,
    events_frame,
    infer_dates,
    leads_frame,
    read_raw,
    write_files,
)
from mql.errors import InputError

#: Rows of bank-full.csv, and of them the clients called in an earlier campaign.
BANK_ROWS = 45_211


def test_shipped_file_is_the_published_one(shared_data: Path) -> None:
    original = shared_data / "uci-bank-marketing" / "bank-full.csv"
    if not original.exists():
        pytest.skip(f"{original} is absent")
    shipped = gzip.decompress(data_path(RAW_FILE).read_bytes())
    assert (
        hashlib.sha256(shipped).digest()
        == hashlib.sha256(original.read_bytes()).digest()
    )


def test_notice_cites_the_authors_and_licence() -> None:
    notice = data_path("NOTICE.md").read_text(encoding="utf-8")
    for needed in ("Moro", "Cortez", "Rita", "CC BY 4.0", "duration"):
        assert needed in notice


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    files = write_files(tmp_path_factory.mktemp("bank"))
    assert files.lead_count == BANK_ROWS
    assert (files.first_day, files.last_day) == (date(2008, 5, 5), date(2010, 11, 17))
    return files.leads, files.events


def test_leads_file_has_one_row_per_contact_and_no_duration(
    written: tuple[Path, Path],
) -> None:
    with written[0].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == BANK_ROWS
    assert "duration" not in rows[0]
    assert rows[0]["client_id"] == "1"
    assert rows[-1]["client_id"] == str(BANK_ROWS)
    subscribed = sum(row["subscribed"] == "yes" for row in rows)
    assert 0.10 < subscribed / BANK_ROWS < 0.13


def test_events_are_in_time_order_with_one_call_per_contact(
    written: tuple[Path, Path],
) -> None:
    events = pd.read_csv(written[1], keep_default_na=False)
    calls = events[events["type"] == "campaign_call"]
    earlier = events[events["type"] == "previous_campaign_call"]
    assert len(calls) == BANK_ROWS
    assert calls["client_id"].is_unique
    assert len(earlier) > 0
    assert set(earlier["outcome"]) <= {"failure", "other", "success", "unknown"}
    assert list(events["date"]) == sorted(events["date"])
    assert events["event_id"].is_unique


def test_previous_call_is_pdays_before_the_last_call() -> None:
    raw = pd.DataFrame(
        {
            "contact": ["cellular", "unknown"],
            "campaign": [2, 1],
            "pdays": [10, -1],
            "previous": [3, 0],
            "poutcome": ["success", "unknown"],
        }
    )
    dates = pd.Series([date(2009, 3, 15), date(2009, 3, 16)])
    events = events_frame(raw, dates)
    previous = events[events["type"] == "previous_campaign_call"]
    assert list(previous["date"]) == ["2009-03-05"]
    assert list(previous["outcome"]) == ["success"]
    assert list(previous["calls"]) == [3]


def test_year_goes_up_when_the_month_goes_down() -> None:
    frame = pd.DataFrame({"day": [31, 1, 1, 2], "month": ["dec", "jan", "may", "feb"]})
    assert list(infer_dates(frame)) == [
        date(2008, 12, 31),
        date(2009, 1, 1),
        date(2009, 5, 1),
        date(2010, 2, 2),
    ]


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"day": [1], "month": ["foo"]}), "row 1: month 'foo' is not"),
        (pd.DataFrame({"day": [30], "month": ["feb"]}), "row 1: day 30 of month 2"),
    ],
)
def test_bad_dates_name_the_row(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(InputError, match=message):
        infer_dates(frame)


def test_leads_frame_renames_the_attributes() -> None:
    raw = read_raw().head(2)
    leads = leads_frame(raw, infer_dates(raw))
    assert list(leads.columns[:3]) == ["client_id", "age", "job"]
    assert "credit_default" in leads.columns


def test_subscribers_convert_on_the_day_of_the_last_call() -> None:
    raw = read_raw()
    leads = leads_frame(raw, infer_dates(raw))
    subscribed = leads["subscribed"] == "yes"
    assert (leads.loc[subscribed, "subscribed_on"] != "").all()
    assert (leads.loc[~subscribed, "subscribed_on"] == "").all()
    # bank-full.csv's first subscriber is row 84, called on 2008-05-05 (a Monday).
    first = int(subscribed.to_numpy().argmax())
    assert (first + 1, leads["subscribed_on"].iloc[first]) == (84, "2008-05-05")


def test_read_raw_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"columns \['age'.*are missing"):
        read_raw(path)


def test_read_raw_names_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the bank marketing file"):
        read_raw(tmp_path / "absent.csv")
