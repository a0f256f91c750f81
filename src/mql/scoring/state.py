"""The incremental state a store keeps per lead, and its plain-JSON form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from mql.errors import InputError

#: Bumped when the JSON form changes; from_json refuses other versions.
STATE_FORMAT = 1


def _empty() -> Mapping[Any, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, eq=True)
class LeadState:
    """What scoring needs of a lead's past, in O(groups + repeat counters) space.

    ``positive[g]`` is the decayed sum of group g's positive points at
    ``last_activity``; ``negative[g]`` the plain sum of its negative points.
    ``fired_once``, ``once_per`` and ``match_counts`` remember the repeat modes.
    ``last_event_id`` is the id of the last activity, so that the order (at, id)
    holds among events at the same instant.
    """

    fit: float = 0.0
    fit_rules: tuple[str, ...] = ()
    disqualifier: str | None = None
    disqualified_reason: str | None = None
    positive: Mapping[str, float] = field(default_factory=_empty, hash=False)
    negative: Mapping[str, float] = field(default_factory=_empty, hash=False)
    last_activity: datetime | None = None
    last_event_id: str | None = None
    fired_once: frozenset[str] = frozenset()
    once_per: Mapping[str, frozenset[str]] = field(default_factory=_empty, hash=False)
    match_counts: Mapping[str, int] = field(default_factory=_empty, hash=False)
    activities: int = 0

    def to_json(self) -> dict[str, Any]:
        """The state as plain JSON types (floats round-trip exactly)."""
        last = self.last_activity
        return {
            "format": STATE_FORMAT,
            "fit": self.fit,
            "fit_rules": list(self.fit_rules),
            "disqualifier": self.disqualifier,
            "disqualified_reason": self.disqualified_reason,
            "positive": dict(self.positive),
            "negative": dict(self.negative),
            "last_activity": last.isoformat() if last is not None else None,
            "last_event_id": self.last_event_id,
            "fired_once": sorted(self.fired_once),
            "once_per": {k: sorted(v) for k, v in sorted(self.once_per.items())},
            "match_counts": dict(sorted(self.match_counts.items())),
            "activities": self.activities,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LeadState:
        """Rebuild a state written by :meth:`to_json`."""
        if data.get("format") != STATE_FORMAT:
            raise InputError(
                f"lead state format {data.get('format')!r} is not {STATE_FORMAT}; "
                "replay the lead's events to rebuild its state"
            )
        try:
            return cls(
                fit=float(data["fit"]),
                fit_rules=tuple(data["fit_rules"]),
                disqualifier=data["disqualifier"],
                disqualified_reason=data["disqualified_reason"],
                positive=_floats(data["positive"]),
                negative=_floats(data["negative"]),
                last_activity=_instant(data["last_activity"]),
                last_event_id=data["last_event_id"],
                fired_once=frozenset(data["fired_once"]),
                once_per=MappingProxyType(
                    {k: frozenset(v) for k, v in data["once_per"].items()}
                ),
                match_counts=MappingProxyType(
                    {k: int(v) for k, v in data["match_counts"].items()}
                ),
                activities=int(data["activities"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(
                f"lead state is malformed ({exc.__class__.__name__}: {exc}); "
                "replay the lead's events to rebuild its state"
            ) from exc


def _floats(values: Mapping[str, Any]) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in values.items()})


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    at = datetime.fromisoformat(text)
    if at.tzinfo is None:
        raise ValueError(f"last_activity {text!r} has no time zone")
    return at
