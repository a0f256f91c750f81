"""Applying one move to one lead: lock its state, check, record, tell the outbox.

Every move is an append-only row of ``lifecycle_transitions`` and a message in the
outbox, in the caller's transaction. The lead's ``lifecycle_states`` row is locked
(``SELECT ... FOR UPDATE`` on PostgreSQL) and carries a version number, so two
processes moving the same lead never both succeed from the same stage.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from mql.errors import LifecycleError
from mql.lifecycle.leads import lead_info
from mql.lifecycle.outbox import _plain, enqueue
from mql.lifecycle.records import Actor, Snapshot, Transition, as_utc
from mql.lifecycle.stages import (
    DEFAULT_STAGE,
    MoveKind,
    Stage,
    check_move,
    parse_stage,
)
from mql.store.lifecycle_tables import lifecycle_states, lifecycle_transitions
from mql.store.tables import events

logger = logging.getLogger(__name__)

#: The lead attribute an import may use to say which stage a lead starts in.
STAGE_ATTRIBUTE = "lifecycle_stage"


class ConcurrentMoveError(LifecycleError):
    """Another process moved the lead between our read and our write; retry."""


@dataclass(frozen=True)
class LeadState:
    """A lead's current stage, since when, and how many MQL episodes it has had."""

    lead_id: int
    stage: Stage
    since: datetime
    episodes: int
    version: int


def insert_ignore(conn: Connection, table: sa.Table, values: Mapping[str, Any]) -> None:
    """Insert a row unless one with the same key exists (SQLite and PostgreSQL)."""
    dialect = conn.dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    conn.execute(module.insert(table).values(**values).on_conflict_do_nothing())


def lock_state(conn: Connection, lead_id: int) -> LeadState:
    """The lead's lifecycle state, created if new, locked for this transaction."""
    state = _select_for_update(conn, lead_id)
    if state is not None:
        return state
    info = lead_info(conn, lead_id)
    raw = info.attributes.get(STAGE_ATTRIBUTE)
    initial = (
        parse_stage(str(raw), where=f"lead {lead_id} {STAGE_ATTRIBUTE}")
        if raw not in (None, "")
        else DEFAULT_STAGE
    )
    since = _known_since(conn, lead_id, info.created_at)
    insert_ignore(
        conn,
        lifecycle_states,
        {
            "lead_id": lead_id,
            "stage": initial.value,
            "since": since,
            "episodes": 0,
            "version": 0,
            "updated_at": since,
        },
    )
    created = _select_for_update(conn, lead_id)
    if created is None:  # pragma: no cover - the insert above guarantees a row
        raise LifecycleError(f"lead {lead_id}: lifecycle state could not be created")
    return created


def _select_for_update(conn: Connection, lead_id: int) -> LeadState | None:
    query = (
        sa.select(lifecycle_states)
        .where(lifecycle_states.c.lead_id == lead_id)
        .with_for_update()
    )
    row = conn.execute(query).mappings().first()
    return _state(row) if row is not None else None


def _state(row: Mapping[Any, Any]) -> LeadState:
    return LeadState(
        lead_id=row["lead_id"],
        stage=Stage(row["stage"]),
        since=row["since"],
        episodes=row["episodes"],
        version=row["version"],
    )


def _known_since(conn: Connection, lead_id: int, created_at: datetime) -> datetime:
    """The earliest sign of a lead: its creation, or an older imported event."""
    first = conn.execute(
        sa.select(sa.func.min(events.c.at)).where(events.c.lead_id == lead_id)
    ).scalar()
    earliest = as_utc(first)
    return created_at if earliest is None else min(created_at, earliest)


def read_state(conn: Connection, lead_id: int) -> LeadState | None:
    """The lead's recorded state without locking (None before any record)."""
    row = (
        conn.execute(
            sa.select(lifecycle_states).where(lifecycle_states.c.lead_id == lead_id)
        )
        .mappings()
        .first()
    )
    return _state(row) if row is not None else None


def save_state(
    conn: Connection,
    state: LeadState,
    at: datetime,
    *,
    stage: Stage | None = None,
    episodes: int | None = None,
) -> LeadState:
    """Write a new stage or episode count if nobody changed the row since we read it.

    Returns the state as written (the caller keeps its lock).
    """
    values: dict[str, Any] = {"version": state.version + 1, "updated_at": at}
    if stage is not None:
        values.update(stage=stage.value, since=at)
    if episodes is not None:
        values["episodes"] = episodes
    result = conn.execute(
        sa.update(lifecycle_states)
        .where(lifecycle_states.c.lead_id == state.lead_id)
        .where(lifecycle_states.c.version == state.version)
        .values(**values)
    )
    if result.rowcount != 1:
        raise ConcurrentMoveError(
            f"lead {state.lead_id} was changed by another process while moving it "
            f"from {state.stage}; read its history and try again"
        )
    return replace(
        state,
        stage=stage or state.stage,
        since=at if stage is not None else state.since,
        episodes=state.episodes if episodes is None else episodes,
        version=state.version + 1,
    )


def apply_move(
    conn: Connection,
    state: LeadState,
    target: Stage,
    *,
    at: datetime,
    actor: Actor,
    reason: str | None = None,
    snapshot: Snapshot | None = None,
    details: Mapping[str, Any] | None = None,
    handoff_id: int | None = None,
) -> Transition:
    """Move a locked lead to ``target``: check it, record it, enqueue the message."""
    kind = check_move(state.stage, target, reason)
    if at < state.since:
        raise LifecycleError(
            f"lead {state.lead_id} entered {state.stage} at {state.since.isoformat()};"
            f" a move at {at.isoformat()} would come before it. Use a later --at"
        )
    snap = snapshot or Snapshot()
    save_state(conn, state, at, stage=target)
    row = {
        "lead_id": state.lead_id,
        "from_stage": state.stage.value,
        "to_stage": target.value,
        "kind": kind.value,
        "at": at,
        "recorded_at": datetime.now(UTC),
        "actor": actor.name,
        "actor_kind": actor.kind,
        "reason": reason.strip() if reason else None,
        "score": snap.score,
        "grade": snap.grade,
        "explanation": _plain(dict(snap.explanation)) if snap.explanation else None,
        "details": _plain(dict(details or {})),
        "handoff_id": handoff_id,
    }
    new_id = conn.execute(
        sa.insert(lifecycle_transitions)
        .values(**row)
        .returning(lifecycle_transitions.c.id)
    ).scalar_one()
    enqueue(conn, "lead.stage_changed", state.lead_id, at, _message(row))
    logger.debug("lead %s: %s -> %s (%s)", state.lead_id, state.stage, target, kind)
    return _transition({**row, "id": new_id})


def moved(state: LeadState, transition: Transition) -> LeadState:
    """The state of a locked lead after ``transition`` was applied to it."""
    return replace(
        state, stage=transition.to_stage, since=transition.at, version=state.version + 1
    )


def _message(row: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("from_stage", "to_stage", "kind", "actor", "actor_kind", "reason")
    data = {key: row[key] for key in keys}
    data.update(score=row["score"], grade=row["grade"], details=row["details"])
    data["handoff_id"] = row["handoff_id"]
    return data


def history(conn: Connection, lead_id: int) -> list[Transition]:
    """Every recorded move of a lead, oldest first."""
    query = (
        sa.select(lifecycle_transitions)
        .where(lifecycle_transitions.c.lead_id == lead_id)
        .order_by(lifecycle_transitions.c.at, lifecycle_transitions.c.id)
    )
    return [_transition(row) for row in conn.execute(query).mappings()]


def _transition(row: Mapping[Any, Any]) -> Transition:
    return Transition(
        id=row["id"],
        lead_id=row["lead_id"],
        from_stage=Stage(row["from_stage"]),
        to_stage=Stage(row["to_stage"]),
        kind=MoveKind(row["kind"]),
        at=row["at"],
        actor=row["actor"],
        actor_kind=row["actor_kind"],
        reason=row["reason"],
        score=row["score"],
        grade=row["grade"],
        explanation=row["explanation"],
        details=row["details"] or {},
        handoff_id=row["handoff_id"],
    )
