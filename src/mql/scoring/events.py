"""The event: something a lead did, at a timezone-aware instant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from mql.errors import InputError


def require_aware(at: datetime, what: str) -> None:
    """Refuse a naive datetime, saying which value it was and how to fix it."""
    if not isinstance(at, datetime):
        raise InputError(
            f"{what} must be a datetime; got {type(at).__name__} {at!r}. "
            "Parse it first, e.g. datetime.fromisoformat('2025-01-31T09:00:00+00:00')"
        )
    if at.tzinfo is None or at.utcoffset() is None:
        raise InputError(
            f"{what} is a naive datetime ({at.isoformat()}); give it a time zone, "
            "e.g. at.replace(tzinfo=timezone.utc) when it is already in UTC"
        )


@dataclass(frozen=True)
class Event:
    """Something a lead did: ``id``, ``type``, a timezone-aware ``at`` and properties.

    >>> from datetime import datetime, timezone
    >>> Event("e1", "page_view", datetime(2025, 1, 1, tzinfo=timezone.utc)).type
    'page_view'
    >>> Event("e1", "page_view", datetime(2025, 1, 1))
    Traceback (most recent call last):
    ...
    mql.errors.InputError: event 'e1': at is a naive datetime (2025-01-01T00:00:00); ...
    """

    id: str
    type: str
    at: datetime
    properties: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InputError(
                f"an event id must be non-empty text; got {self.id!r}. "
                "Use the source system's event id, or a hash of the row"
            )
        require_aware(self.at, f"event {self.id!r}: at")
        if not isinstance(self.properties, Mapping):
            raise InputError(
                f"event {self.id!r}: properties must be a mapping; got "
                f"{type(self.properties).__name__}"
            )

    @property
    def key(self) -> tuple[datetime, str]:
        """The event's place in the order events are taken: (at, id)."""
        return (self.at, self.id)


def history(events: Iterable[Event], at: datetime | None = None) -> list[Event]:
    """Events in (at, id) order, one per id (the earliest), none after ``at``."""
    ordered = sorted(events, key=lambda e: e.key)
    seen: set[str] = set()
    out: list[Event] = []
    for event in ordered:
        if event.id in seen:
            continue
        seen.add(event.id)
        if at is None or event.at <= at:
            out.append(event)
    return out
