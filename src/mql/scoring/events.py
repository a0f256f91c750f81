"""The event: something a lead did, at a timezone-aware instant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

    def content_key(self, properties: Sequence[str]) -> ContentKey:
        """What tells two copies of one id at one instant apart, in sort order.

        The type, then the value of each named property in the order given: a
        missing value (absent or null) before any text, text (booleans as
        ``true``/``false``, anything else as ``str``) in code-point order. Of
        copies with the same id and ``at``, the one whose key sorts first is kept.

        >>> from datetime import datetime, timezone
        >>> at = datetime(2025, 1, 1, tzinfo=timezone.utc)
        >>> Event("e", "page_view", at, {"url": "/a"}).content_key(["asset", "url"])
        ('page_view', ((0, ''), (1, '/a')))
        """
        values = tuple(_sort_text(self.properties.get(name)) for name in properties)
        return (self.type, values)


#: (type, ((0, '') for a missing value or (1, text), one per property)).
ContentKey = tuple[str, tuple[tuple[int, str], ...]]


def _sort_text(value: Any) -> tuple[int, str]:
    if value is None:
        return (0, "")
    if isinstance(value, bool):
        return (1, "true" if value else "false")
    return (1, str(value))


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
    events: Iterable[Event],
    at: datetime | None = None,
    caller: str = "history",
    properties: Sequence[str] | None = None,
) -> list[Event]:
    """Events in (at, id) order, one per id, none after ``at``.

    Of the copies of one id, the earliest is kept; of copies at the same instant,
    the one whose ``content_key(properties)`` sorts first, so the result does not
    depend on the order the copies arrived in. The engines pass the properties the
    model reads (``read_properties``); left out, every property any of the copies
    has counts, in name order.
    """
    checked = [require_event(e, caller) for e in events]
    ordered = _content_order(sorted(checked, key=lambda e: e.key), properties)
    seen: set[str] = set()
    out: list[Event] = []
    for event in ordered:
        if event.id in seen:
            continue
        seen.add(event.id)
        if at is None or event.at <= at:
            out.append(event)
    return out


def _content_order(
    ordered: list[Event], properties: Sequence[str] | None
) -> list[Event]:
    """Copies with the same (at, id) put in content order; other events untouched."""
    out: list[Event] = []
    start = 0
    for index in range(1, len(ordered) + 1):
        if index < len(ordered) and ordered[index].key == ordered[start].key:
            continue
        run = ordered[start:index]
        if len(run) > 1:
            names = (
                properties
                if properties is not None
                else sorted({name for e in run for name in e.properties})
            )
            run = sorted(run, key=lambda e: e.content_key(names))
        out.extend(run)
        start = index
    return out
