"""The event: something a lead did, at a timezone-aware instant."""

from __future__ import annotations

import json
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

    @property
    def content(self) -> tuple[str, str]:
        """What tells two copies of one id at one instant apart: (type, properties).

        The properties as canonical JSON: keys sorted, no blanks, non-ASCII kept,
        values that JSON cannot hold written as their ``str``. Of several copies
        with the same id and ``at``, the one whose content sorts first is kept.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> Event("e", "page_view", at, {"url": "/a", "n": 1}).content
        ('page_view', '{"n":1,"url":"/a"}')
        """
        return (self.type, canonical_json(self.properties))


def canonical_json(properties: Mapping[str, Any]) -> str:
    """Properties as one canonical JSON text (sorted keys, no blanks)."""
    return json.dumps(
        dict(properties),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )


def require_event(event: Any, where: str) -> Event:
    """Refuse anything but an Event, naming the function and the type received."""
    if not isinstance(event, Event):
        raise InputError(
            f"{where} takes mql.scoring.Event objects; got {type(event).__name__} "
            f"{event!r:.80}. Build one with Event(id, type, at, properties)"
        )
    return event


def require_attributes(attributes: Any, where: str) -> Mapping[str, Any]:
    """Refuse attributes that are not a mapping (None included)."""
    if not isinstance(attributes, Mapping):
        raise InputError(
            f"{where}: attributes must be a mapping of field names to values; got "
            f"{type(attributes).__name__} {attributes!r:.80}. Pass {{}} for a "
            "lead with no known fields"
        )
    return attributes


def history(
    events: Iterable[Event], at: datetime | None = None, caller: str = "history"
) -> list[Event]:
    """Events in (at, id) order, one per id, none after ``at``.

    Of the copies of one id, the earliest is kept; of copies at the same instant,
    the one whose ``content`` (type, then properties as canonical JSON) sorts
    first, so the result does not depend on the order the copies arrived in.
    """
    checked = [require_event(e, caller) for e in events]
    ordered = _content_order(sorted(checked, key=lambda e: e.key))
    seen: set[str] = set()
    out: list[Event] = []
    for event in ordered:
        if event.id in seen:
            continue
        seen.add(event.id)
        if at is None or event.at <= at:
            out.append(event)
    return out


def _content_order(ordered: list[Event]) -> list[Event]:
    """Copies with the same (at, id) put in content order (rare: JSON only then)."""
    out: list[Event] = []
    start = 0
    for index in range(1, len(ordered) + 1):
        if index < len(ordered) and ordered[index].key == ordered[start].key:
            continue
        run = ordered[start:index]
        out.extend(sorted(run, key=lambda e: e.content) if len(run) > 1 else run)
        start = index
    return out
