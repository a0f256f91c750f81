"""Business hours with a holiday calendar: the clock an SLA runs on.

Times are aware instants; the working day is read in the calendar's time zone and
counted in real (UTC) time, so a window that spans a daylight-saving change counts
the hours that really passed (00:00-08:00 on the night clocks go back is nine).

>>> from datetime import datetime, UTC
>>> cal = BusinessCalendar(timezone="UTC")
>>> add_business_hours(datetime(2026, 12, 4, 16, 0, tzinfo=UTC), 2, cal).isoformat()
'2026-12-07T10:00:00+00:00'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from mql.errors import LifecycleError

#: Monday to Friday, as ``date.weekday()`` numbers.
WEEKDAYS = frozenset({0, 1, 2, 3, 4})
#: A calendar with no working day in this many days is certainly misconfigured.
MAX_DAYS_SEARCHED = 3660
SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours ``start``-``end`` on ``days`` in ``timezone``, minus holidays."""

    timezone: str = "UTC"
    start: time = time(9, 0)
    end: time = time(17, 0)
    days: frozenset[int] = WEEKDAYS
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise LifecycleError(
                f"business hours end {self.end} is not after start {self.start}; "
                "give start and end on the same day, e.g. 09:00 and 17:00"
            )
        if not self.days:
            raise LifecycleError("business days are empty; list at least one day")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise LifecycleError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as "
                "America/New_York or Europe/London"
            ) from None

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local date) has business hours."""
        return day.weekday() in self.days and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The business hours of a local date, as UTC instants.

        In UTC, so that subtracting them gives real elapsed time even when the
        local offset changes in between (Python subtracts wall clocks otherwise).
        """
        zone = self.zone
        opens = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
        closes = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
        return opens, closes


def _windows_from(
    at: datetime, cal: BusinessCalendar
) -> Iterator[tuple[datetime, datetime]]:
    """Business windows (clipped to start at ``at``) from ``at`` on, in UTC."""
    at = at.astimezone(UTC)
    day = at.astimezone(cal.zone).date()
    for offset in range(MAX_DAYS_SEARCHED):
        current = day + timedelta(days=offset)
        if not cal.is_working_day(current):
            continue
        opens, closes = cal.window(current)
        if closes <= at:
            continue
        yield max(opens, at), closes
    raise LifecycleError(
        f"no business hours within {MAX_DAYS_SEARCHED} days of {at.isoformat()}; "
        "check the business days and holidays of the SLA calendar"
    )


def add_business_hours(
    start: datetime, hours: float, cal: BusinessCalendar
) -> datetime:
    """The instant ``hours`` business hours after ``start``."""
    _require_aware(start)
    if hours < 0:
        raise LifecycleError(f"business hours must be >= 0; got {hours}")
    remaining = timedelta(hours=hours)
    if not remaining:
        return start
    for opens, closes in _windows_from(start, cal):
        span = closes - opens
        if remaining <= span:
            return (opens + remaining).astimezone(start.tzinfo)
        remaining -= span
    raise AssertionError("unreachable: _windows_from raises when it runs out")


def business_hours_between(
    start: datetime, end: datetime, cal: BusinessCalendar
) -> float:
    """Business hours from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    _require_aware(start)
    _require_aware(end)
    if end < start:
        return -business_hours_between(end, start, cal)
    end = end.astimezone(UTC)
    total = timedelta()
    for opens, closes in _windows_from(start, cal):
        if opens >= end:
            break
        total += min(closes, end) - opens
    return total.total_seconds() / SECONDS_PER_HOUR


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None:
        raise LifecycleError(
            f"naive datetime {value.isoformat()} has no time zone; give an aware "
            "instant such as 2026-12-04T09:00:00+00:00"
        )
