"""What a read of a lead gives: its score, grade, MQL decision and when it ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Score:
    """A lead's score at instant ``at``.

    ``intent`` is the sum of the clamped group values (before any total cap);
    ``groups`` holds each group's clamped value; ``mql_until`` is the instant the
    MQL lapses if nothing else happens (None: not an MQL, or it never lapses).
    """

    score: float
    fit: float
    intent: float
    grade: str
    mql: bool
    disqualified_reason: str | None
    mql_until: datetime | None
    groups: Mapping[str, float] = field(hash=False)
    last_activity: datetime | None
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """The score as plain JSON types (instants as ISO 8601 text)."""
        return {
            "score": self.score,
            "fit": self.fit,
            "intent": self.intent,
            "grade": self.grade,
            "mql": self.mql,
            "disqualified_reason": self.disqualified_reason,
            "mql_until": _iso(self.mql_until),
            "groups": dict(self.groups),
            "last_activity": _iso(self.last_activity),
            "at": self.at.isoformat(),
        }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None
