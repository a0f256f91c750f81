"""Business-hour arithmetic with weekends, holidays and daylight saving."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mql.errors import LifecycleError
from mql.lifecycle.calendar import (
    BusinessCalendar,
    add_business_hours,
    business_hours_between,
)

UTC_CAL = BusinessCalendar(timezone="UTC", holidays=frozenset({date(2026, 12, 25)}))
NEW_YORK = BusinessCalendar(timezone="America/New_York")


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Inside one day.
        (
            datetime(2026, 12, 1, 10, tzinfo=UTC),
            4,
            datetime(2026, 12, 1, 14, tzinfo=UTC),
        ),
        # Friday afternoon runs into Monday.
        (
            datetime(2026, 12, 4, 15, tzinfo=UTC),
            4,
            datetime(2026, 12, 7, 11, tzinfo=UTC),
        ),
        # Saturday starts counting on Monday at opening.
        (
            datetime(2026, 12, 5, 12, tzinfo=UTC),
            1,
            datetime(2026, 12, 7, 10, tzinfo=UTC),
        ),
        # Christmas (Friday) is skipped: Thursday 16:00 + 2h is Monday 10:00.
        (
            datetime(2026, 12, 24, 16, tzinfo=UTC),
            2,
            datetime(2026, 12, 28, 10, tzinfo=UTC),
        ),
        # Before opening counts from opening; exactly a day's 8 hours ends at close.
        (
            datetime(2026, 12, 1, 6, tzinfo=UTC),
            8,
            datetime(2026, 12, 1, 17, tzinfo=UTC),
        ),
    ],
)
def test_add_business_hours(start: datetime, hours: float, due: datetime) -> None:
    assert add_business_hours(start, hours, UTC_CAL) == due


def test_hours_are_local_across_daylight_saving() -> None:
    # 2026-03-08 is the US spring-forward Sunday: 9:00 New York is 14:00 UTC the
    # Friday before and 13:00 UTC the Monday after.
    friday = datetime(2026, 3, 6, 21, 0, tzinfo=UTC)  # 16:00 in New York
    due = add_business_hours(friday, 2, NEW_YORK)
    assert due == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)  # Monday 10:00 EDT


def test_naive_instants_and_bad_calendars_are_refused() -> None:
    with pytest.raises(LifecycleError, match="naive datetime 2026-12-01T10:00:00"):
        add_business_hours(datetime(2026, 12, 1, 10), 1, UTC_CAL)
    with pytest.raises(LifecycleError, match="unknown time zone 'Mars/Base'"):
        BusinessCalendar(timezone="Mars/Base")
    with pytest.raises(LifecycleError, match="end 08:00:00 is not after start"):
        BusinessCalendar(start=time(9), end=time(8))


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2027, 12, 31),
        timezones=st.just(UTC),
    ),
    minutes=st.integers(min_value=0, max_value=60 * 80),
)
def test_between_inverts_add(start: datetime, minutes: int) -> None:
    hours = minutes / 60
    due = add_business_hours(start, hours, NEW_YORK)
    assert business_hours_between(start, due, NEW_YORK) == pytest.approx(hours)
    assert due >= start
    assert due - start >= timedelta(minutes=minutes)


#: Every day, midnight to eight: the window that holds the switch back from EDT.
NIGHT_SHIFT = BusinessCalendar(
    timezone="America/New_York",
    start=time(0, 0),
    end=time(8, 0),
    days=frozenset(range(7)),
)


def test_a_window_spanning_the_switch_back_counts_its_real_hours() -> None:
    # 2026-11-01: clocks go back from 02:00 EDT to 01:00 EST, so 00:00-08:00
    # local is 04:00-13:00 UTC, nine real hours.
    opens = datetime(2026, 11, 1, 4, tzinfo=UTC)
    closes = datetime(2026, 11, 1, 13, tzinfo=UTC)
    assert business_hours_between(opens, closes, NIGHT_SHIFT) == 9.0
    due = add_business_hours(opens, 8.5, NIGHT_SHIFT)
    assert due == datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    local = opens.astimezone(NIGHT_SHIFT.zone)
    assert add_business_hours(local, 8.5, NIGHT_SHIFT) == due
    assert (
        business_hours_between(local, due.astimezone(NIGHT_SHIFT.zone), NIGHT_SHIFT)
        == 8.5
    )
