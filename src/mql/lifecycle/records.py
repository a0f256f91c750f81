"""Plain records the lifecycle reads and returns: actors, score snapshots, moves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mql.lifecycle.stages import MoveKind, Stage

ActorKind = Literal["person", "rule", "auto"]


@dataclass(frozen=True)
class Actor:
    """Who made a move: a person (by name), a rule, or the auto-approval policy."""

    name: str
    kind: ActorKind = "person"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValueError("an actor needs a name (who made the move)")


#: The rules that move leads on their own.
THRESHOLD_RULE = Actor("rule:threshold", "rule")
LAPSE_RULE = Actor("rule:mql-lapse", "rule")
SLA_RULE = Actor("rule:sla", "rule")
ROUTING_RULE = Actor("rule:routing", "rule")
AUTO_APPROVAL = Actor("policy:auto-approval", "auto")

#: The reason recorded when an MQL nobody accepted lapses at its mql_until.
INTENT_DECAYED = "intent decayed"


@dataclass(frozen=True)
class Snapshot:
    """A lead's score at one moment, as recorded with a move or a handoff."""

    score: float | None = None
    grade: str | None = None
    mql: bool = False
    mql_until: datetime | None = None
    last_activity: datetime | None = None
    as_of: datetime | None = None
    explanation: Mapping[str, Any] | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Transition:
    """One recorded move of one lead."""

    id: int
    lead_id: int
    from_stage: Stage
    to_stage: Stage
    kind: MoveKind
    at: datetime
    actor: str
    actor_kind: str
    reason: str | None
    score: float | None
    grade: str | None
    explanation: Mapping[str, Any] | None = field(hash=False)
    details: Mapping[str, Any] = field(hash=False)
    handoff_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """The move as plain values (for JSON and CSV output)."""
        return {
            "id": self.id,
            "lead_id": self.lead_id,
            "from": self.from_stage.value,
            "to": self.to_stage.value,
            "kind": self.kind.value,
            "at": self.at,
            "actor": self.actor,
            "actor_kind": self.actor_kind,
            "reason": self.reason,
            "score": self.score,
            "grade": self.grade,
            "handoff_id": self.handoff_id,
            "details": dict(self.details),
        }


def as_utc(value: Any) -> datetime | None:
    """An aggregate's instant as an aware UTC datetime (SQLite may give it naive)."""
    if value is None:
        return None
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(instant, datetime):
        raise TypeError(f"expected an instant, got {value!r}")
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def utc_text(value: datetime) -> str:
    """An instant as ISO 8601 in UTC to the second, ending in ``Z``.

    >>> utc_text(datetime(2026, 12, 1, 10, 0, 0, 250, tzinfo=UTC))
    '2026-12-01T10:00:00Z'
    """
    instant = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    plain = instant.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    return plain.isoformat() + "Z"
