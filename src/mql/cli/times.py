"""The ``--at`` option: any past or future instant, as an ISO date or timestamp."""

from __future__ import annotations

from datetime import UTC, date, datetime

import typer

#: What every ``--at`` accepts; each command puts its own meaning in front.
AT_FORMAT_HELP = (
    "an ISO date (2024-03-31, meaning 00:00 UTC that day) "
    "or timestamp (2024-03-31T17:30, 2024-03-31T17:30+02:00). Times without an "
    "offset are UTC. Default: now."
)
AT_HELP = "The instant to score at: " + AT_FORMAT_HELP


def parse_instant(text: str) -> datetime:
    """An ISO date or timestamp as an aware UTC instant.

    A date means its start in UTC; a timestamp without an offset is UTC.

    >>> parse_instant("2024-03-31")
    datetime.datetime(2024, 3, 31, 0, 0, tzinfo=datetime.timezone.utc)
    >>> parse_instant("2024-03-31T17:30+02:00").isoformat()
    '2024-03-31T15:30:00+00:00'
    """
    value = text.strip()
    if len(value) == len("YYYY-MM-DD"):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not an ISO date or timestamp; use e.g. 2024-03-31 "
            "or 2024-03-31T17:30:00Z"
        ) from exc
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def at_parser(value: str) -> datetime:
    """Typer parser for ``--at``: the parsed instant, or a usage error naming it."""
    try:
        return parse_instant(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="'--at'") from exc


def now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)
