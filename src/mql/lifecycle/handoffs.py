"""Handoffs: one per MQL episode, approved by a person, routed, accepted or not.

A handoff is *open* from its creation until it is accepted, rejected, declined,
lapsed or withdrawn; the database holds at most one open handoff per lead.
Functions here work inside the caller's transaction on a locked lead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.errors import LifecycleError
from mql.lifecycle.calendar import add_business_hours
from mql.lifecycle.config import LifecycleConfig
from mql.lifecycle.leads import MAX_ID, lead_info
from mql.lifecycle.outbox import _plain, enqueue
from mql.lifecycle.records import THRESHOLD_RULE, Actor, Snapshot, as_utc, utc_text
from mql.lifecycle.routing import OwnerLoad, RoutingDecision, choose_owner
from mql.lifecycle.transitions import LeadState, save_state
from mql.store.lifecycle_tables import handoff_log, handoffs

logger = logging.getLogger(__name__)


class HandoffStatus(StrEnum):
    """Where a handoff stands."""

    PENDING = "pending"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DECLINED = "declined"
    LAPSED = "lapsed"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = (HandoffStatus.PENDING, HandoffStatus.APPROVED)


def parse_status(text: str) -> HandoffStatus:
    """A handoff status by name, or a LifecycleError listing the valid ones."""
    try:
        return HandoffStatus(text.strip().lower())
    except ValueError:
        valid = ", ".join(s.value for s in HandoffStatus)
        raise LifecycleError(
            f"status: {text!r} is not a handoff status; use one of {valid}"
        ) from None


def has_owner(conn: Connection, owner: str) -> bool:
    """Whether any handoff, open or closed, was given to ``owner``."""
    query = sa.select(handoffs.c.id).where(handoffs.c.owner == owner).limit(1)
    return conn.execute(query).first() is not None


@dataclass(frozen=True)
class Handoff:
    """One handoff as stored."""

    id: int
    lead_id: int
    episode: int
    status: HandoffStatus
    created_at: datetime
    score: float | None
    grade: str | None
    mql_until: datetime | None
    explanation: Mapping[str, Any] | None
    decided_at: datetime | None
    decided_by: str | None
    decision_kind: str | None
    decision_reason: str | None
    owner: str | None
    routed_at: datetime | None
    routed_via: str | None
    due_at: datetime | None
    reassignments: int
    escalated_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None

    @property
    def is_open(self) -> bool:
        """Whether the handoff still waits for a decision or an acceptance."""
        return self.closed_at is None


def _handoff(row: Mapping[Any, Any]) -> Handoff:
    values = {name: row[name] for name in Handoff.__dataclass_fields__}
    values["status"] = HandoffStatus(row["status"])
    return Handoff(**values)


def get_handoff(conn: Connection, handoff_id: int) -> Handoff:
    """The handoff with this id, or a LifecycleError saying there is none."""
    row = (
        conn.execute(sa.select(handoffs).where(handoffs.c.id == handoff_id))
        .mappings()
        .first()
        if 0 < handoff_id <= MAX_ID
        else None
    )
    if row is None:
        raise LifecycleError(
            f"no handoff {handoff_id}; see `mql handoffs list` for the ids"
        )
    return _handoff(row)


def open_handoff_of(conn: Connection, lead_id: int) -> Handoff | None:
    """The lead's open handoff, if any."""
    row = (
        conn.execute(
            sa.select(handoffs)
            .where(handoffs.c.lead_id == lead_id)
            .where(handoffs.c.closed_at.is_(None))
        )
        .mappings()
        .first()
    )
    return _handoff(row) if row is not None else None


def list_handoffs(
    conn: Connection,
    status: HandoffStatus | None = None,
    owner: str | None = None,
    lead_id: int | None = None,
) -> list[Handoff]:
    """Handoffs, newest first (the later id first on a tie), optionally filtered."""
    query = sa.select(handoffs).order_by(
        handoffs.c.created_at.desc(), handoffs.c.id.desc()
    )
    if status is not None:
        query = query.where(handoffs.c.status == status.value)
    if owner is not None:
        query = query.where(handoffs.c.owner == owner)
    if lead_id is not None:
        query = query.where(handoffs.c.lead_id == lead_id)
    return [_handoff(row) for row in conn.execute(query).mappings()]


def create_handoff(
    conn: Connection,
    state: LeadState,
    at: datetime,
    snapshot: Snapshot,
    actor: Actor = THRESHOLD_RULE,
) -> Handoff:
    """Open the pending handoff of a new MQL episode of a locked lead in mql."""
    episode = state.episodes + 1
    save_state(conn, state, at, episodes=episode)
    new_id = conn.execute(
        sa.insert(handoffs)
        .values(
            lead_id=state.lead_id,
            episode=episode,
            status=HandoffStatus.PENDING.value,
            created_at=at,
            score=snapshot.score,
            grade=snapshot.grade,
            mql_until=snapshot.mql_until,
            explanation=_plain(dict(snapshot.explanation or {})),
            reassignments=0,
        )
        .returning(handoffs.c.id)
    ).scalar_one()
    handoff = get_handoff(conn, new_id)
    _log(conn, handoff, at, "created", actor, _summary(handoff))
    return handoff


def _summary(handoff: Handoff) -> dict[str, Any]:
    return {
        "handoff_id": handoff.id,
        "episode": handoff.episode,
        "status": handoff.status.value,
        "score": handoff.score,
        "grade": handoff.grade,
        "mql_until": handoff.mql_until,
        "owner": handoff.owner,
        "due_at": handoff.due_at,
        "explanation": handoff.explanation,
    }


def _log(
    conn: Connection,
    handoff: Handoff,
    at: datetime,
    action: str,
    actor: Actor,
    detail: Mapping[str, Any],
) -> None:
    """Record an action on a handoff and tell the outbox about it."""
    plain = _plain(dict(detail))
    conn.execute(
        sa.insert(handoff_log).values(
            handoff_id=handoff.id, at=at, action=action, actor=actor.name, detail=plain
        )
    )
    enqueue(conn, f"handoff.{action}", handoff.lead_id, at, {**plain, "by": actor.name})


def handoff_log_of(conn: Connection, handoff_id: int) -> list[dict[str, Any]]:
    """The actions recorded on a handoff, oldest first."""
    query = (
        sa.select(handoff_log)
        .where(handoff_log.c.handoff_id == handoff_id)
        .order_by(handoff_log.c.at, handoff_log.c.id)
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def _update(conn: Connection, handoff: Handoff, **values: Any) -> Handoff:
    conn.execute(
        sa.update(handoffs).where(handoffs.c.id == handoff.id).values(**values)
    )
    return get_handoff(conn, handoff.id)


def require_status(handoff: Handoff, *allowed: HandoffStatus, doing: str) -> None:
    """Refuse to act on a handoff whose status does not allow it."""
    if handoff.status not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        article = "an" if wanted[0] in "aeiou" else "a"
        raise LifecycleError(
            f"cannot {doing} handoff {handoff.id} of lead {handoff.lead_id}: it is "
            f"{handoff.status.value}, and only {article} {wanted} handoff can be"
        )


def require_not_before(handoff: Handoff, at: datetime, doing: str) -> None:
    """Refuse a person's action dated before the handoff's last recorded step."""
    steps = [
        ("created", handoff.created_at),
        ("approved", handoff.decided_at),
        ("routed", handoff.routed_at),
    ]
    label, last = max(  # the latest step; on a tie, the one listed last
        ((name, when) for name, when in reversed(steps) if when is not None),
        key=lambda step: step[1],
    )
    if at < last:
        raise LifecycleError(
            f"cannot {doing} handoff {handoff.id} at {utc_text(at)}: it was "
            f"{label} at {utc_text(last)}; give a later --at"
        )


def decide(
    conn: Connection,
    handoff: Handoff,
    at: datetime,
    actor: Actor,
    approve: bool,
    reason: str | None,
) -> Handoff:
    """Record the approval or rejection of a pending handoff (person or policy)."""
    require_status(
        handoff, HandoffStatus.PENDING, doing="approve" if approve else "reject"
    )
    if not approve and not (reason and reason.strip()):
        raise LifecycleError(
            f"rejecting handoff {handoff.id} needs a reason (--reason TEXT)"
        )
    status = HandoffStatus.APPROVED if approve else HandoffStatus.REJECTED
    values: dict[str, Any] = {
        "status": status.value,
        "decided_at": at,
        "decided_by": actor.name,
        "decision_kind": actor.kind,
        "decision_reason": reason,
    }
    if not approve:
        values.update(closed_at=at, close_reason=f"rejected: {reason}")
    updated = _update(conn, handoff, **values)
    detail = {**_summary(updated), "reason": reason, "decision_kind": actor.kind}
    _log(conn, updated, at, status.value, actor, detail)
    return updated


def owner_loads(conn: Connection) -> dict[str, OwnerLoad]:
    """Each owner's open handoffs and last assignment, for round robin."""
    open_count = sa.func.sum(
        sa.case((handoffs.c.closed_at.is_(None), 1), else_=0)
    ).label("open")
    query = (
        sa.select(handoffs.c.owner, open_count, sa.func.max(handoffs.c.routed_at))
        .where(handoffs.c.owner.is_not(None))
        .group_by(handoffs.c.owner)
    )
    loads: dict[str, OwnerLoad] = {}
    for owner, count, last in conn.execute(query):
        loads[owner] = OwnerLoad(open=int(count or 0), last_assigned=as_utc(last))
    return loads


def route(
    conn: Connection,
    config: LifecycleConfig,
    handoff: Handoff,
    at: datetime,
    exclude: tuple[str, ...] = (),
    action: str = "routed",
) -> RoutingDecision:
    """Give an approved handoff to an owner with an SLA deadline, and record it."""
    attributes = lead_info(conn, handoff.lead_id).attributes
    decision = choose_owner(
        config, attributes, owner_loads(conn), exclude, turn=handoff.id - 1
    )
    if decision.owner is None:
        if handoff.owner is None and handoff.routed_via is None:
            _update(conn, handoff, routed_via="none")
            _log(
                conn,
                handoff,
                at,
                "unrouted",
                Actor("rule:routing", "rule"),
                {"reason": decision.detail},
            )
        return decision
    due = add_business_hours(at, config.sla.hours, config.sla.calendar())
    updated = _update(
        conn,
        handoff,
        owner=decision.owner,
        routed_at=at,
        routed_via=decision.via,
        due_at=due,
        reassignments=handoff.reassignments + (1 if action == "reassigned" else 0),
    )
    detail = {**_summary(updated), "via": decision.via, "rule": decision.detail}
    if handoff.owner is not None:
        detail["previous_owner"] = handoff.owner
    _log(conn, updated, at, action, Actor("rule:routing", "rule"), detail)
    return decision


def close(
    conn: Connection,
    handoff: Handoff,
    at: datetime,
    status: HandoffStatus,
    actor: Actor,
    reason: str | None,
) -> Handoff:
    """Close an open handoff (accepted, declined, lapsed or withdrawn)."""
    require_status(handoff, *OPEN_STATUSES, doing=status.value.removesuffix("ed"))
    updated = _update(
        conn, handoff, status=status.value, closed_at=at, close_reason=reason
    )
    _log(
        conn, updated, at, status.value, actor, {**_summary(updated), "reason": reason}
    )
    return updated


def escalate(
    conn: Connection, config: LifecycleConfig, handoff: Handoff, at: datetime
) -> str:
    """Act on an overdue handoff at its deadline: reassign it, else escalate it."""
    sla = config.sla
    sla_actor = Actor("rule:sla", "rule")
    if sla.on_overdue == "reassign" and handoff.reassignments < sla.max_reassignments:
        decision = route(
            conn,
            config,
            handoff,
            at,
            exclude=(handoff.owner or "",),
            action="reassigned",
        )
        if decision.owner is not None:
            return "reassigned"
    _update(conn, handoff, escalated_at=at)
    detail = {**_summary(handoff), "escalate_to": sla.escalate_to, "overdue_since": at}
    _log(conn, handoff, at, "escalated", sla_actor, detail)
    logger.warning(
        "handoff %s of lead %s is overdue since %s (owner %s); escalated to %s",
        handoff.id,
        handoff.lead_id,
        at.isoformat(),
        handoff.owner,
        sla.escalate_to,
    )
    return "escalated"
