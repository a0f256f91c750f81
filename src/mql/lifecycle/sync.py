"""Everything due up to an instant, applied at its own instant: no nightly job.

``sync(lifecycle, at)`` opens a handoff for each new MQL (at the activity that made
it one), recycles MQLs nobody accepted at their ``mql_until`` ("intent decayed"),
reassigns or escalates handoffs past their SLA deadline, routes approved handoffs
that found no owner before, and returns the next instant something falls due,
which is what a long-running service sleeps until.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.errors import LifecycleError
from mql.lifecycle import handoffs as ho
from mql.lifecycle.leads import StoredScores
from mql.lifecycle.records import (
    INTENT_DECAYED,
    LAPSE_RULE,
    THRESHOLD_RULE,
    as_utc,
)
from mql.lifecycle.stages import Stage
from mql.lifecycle.transitions import LeadState, apply_move, lock_state, moved
from mql.store.lifecycle_tables import handoffs, lifecycle_states
from mql.store.tables import lead_scores

if TYPE_CHECKING:
    from mql.lifecycle.service import Lifecycle

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Reads lead_scores, which decides who is an MQL.
STORED = StoredScores()
#: Stages from which a lead that reaches the threshold starts an MQL episode.
ENTRY_STAGES = (Stage.SUBSCRIBER, Stage.LEAD, Stage.MQL)


COUNTS = ("created", "auto_approved", "lapsed", "reassigned", "escalated", "routed")
#: Units of work committed together; a refusal re-runs the batch one unit at a time.
BATCH_SIZE = 200


@dataclass
class SyncReport:
    """What one sync did, and when the next thing falls due."""

    at: datetime
    created: int = 0
    auto_approved: int = 0
    lapsed: int = 0
    reassigned: int = 0
    escalated: int = 0
    routed: int = 0
    next_due: datetime | None = None
    handoff_ids: list[int] = field(default_factory=list)
    #: One line per lead or handoff that could not be moved; the others went on.
    errors: list[str] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        """Add the counts of a committed part of the work."""
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.handoff_ids.extend(other.handoff_ids)
        self.errors.extend(other.errors)

    def to_dict(self) -> dict[str, object]:
        """The report as plain values."""
        return {
            "at": self.at,
            "created": self.created,
            "auto_approved": self.auto_approved,
            "lapsed": self.lapsed,
            "reassigned": self.reassigned,
            "escalated": self.escalated,
            "routed": self.routed,
            "next_due": self.next_due,
            "errors": len(self.errors),
        }


def sync(lifecycle: Lifecycle, at: datetime | None = None) -> SyncReport:
    """Apply everything due up to ``at`` (default now), each at its own instant."""
    started = time.perf_counter()
    when = lifecycle._at(at)
    report = SyncReport(at=when)
    with lifecycle.store.begin() as conn:
        candidates = _new_mql_candidates(conn, when)
    for start in range(0, len(candidates), BATCH_SIZE):
        units: list[Unit[None]] = [
            (
                f"lead {lead_id}",
                partial(_open_episode, lifecycle, lead_id=lead_id, at=when),
            )
            for lead_id in candidates[start : start + BATCH_SIZE]
        ]
        _batch(lifecycle, units, report)
    _apply_due(lifecycle, when, report)
    with lifecycle.store.begin() as conn:
        report.next_due = next_due(conn, when)
    logger.info(
        "lifecycle sync to %s: %d new handoffs (%d auto-approved), %d lapsed, "
        "%d reassigned, %d escalated, %d routed; next due %s; %.3f s",
        when.isoformat(),
        report.created,
        report.auto_approved,
        report.lapsed,
        report.reassigned,
        report.escalated,
        report.routed,
        report.next_due.isoformat() if report.next_due else "none",
        time.perf_counter() - started,
    )
    return report


Work = Callable[[Connection, SyncReport], T]
Unit = tuple[str, Work[T]]


def _batch(
    lifecycle: Lifecycle, units: list[Unit[T]], report: SyncReport
) -> list[T | None]:
    """Run units in one transaction; if one is refused, run each in its own."""
    tally = SyncReport(at=report.at)
    try:
        with lifecycle.store.begin() as conn:
            results: list[T | None] = [work(conn, tally) for _, work in units]
    except (LifecycleError, sa.exc.IntegrityError, sa.exc.OperationalError):
        logger.debug("a batch of %d was refused; going one by one", len(units))
        return [_carry_on(lifecycle, work, what, report) for what, work in units]
    report.add(tally)
    return results


def _carry_on(
    lifecycle: Lifecycle, work: Work[T], what: str, report: SyncReport
) -> T | None:
    """Run one unit in its own transaction; a refusal is reported, the sync goes on."""
    tallies: list[SyncReport] = []

    def attempt(conn: Connection) -> T:
        tallies.append(SyncReport(at=report.at))
        return work(conn, tallies[-1])

    try:
        result = lifecycle._retrying(attempt)
    except LifecycleError as exc:
        report.errors.append(f"{what}: {exc}")
        logger.warning("lifecycle sync skipped %s: %s", what, exc)
        return None
    report.add(tallies[-1])
    return result


def _open_handoff_exists() -> sa.Exists:
    return (
        sa.select(handoffs.c.id)
        .where(handoffs.c.lead_id == lead_scores.c.lead_id)
        .where(handoffs.c.closed_at.is_(None))
        .exists()
    )


def _new_mql_candidates(conn: Connection, at: datetime) -> list[int]:
    """Leads that are MQLs by their score but have no open handoff yet."""
    st = lifecycle_states.c
    eligible = sa.or_(
        st.stage.is_(None),
        st.stage.in_([s.value for s in ENTRY_STAGES]),
        sa.and_(
            st.stage == Stage.RECYCLED.value, lead_scores.c.last_activity > st.since
        ),
    )
    query = (
        sa.select(lead_scores.c.lead_id)
        .select_from(
            lead_scores.outerjoin(
                lifecycle_states, lifecycle_states.c.lead_id == lead_scores.c.lead_id
            )
        )
        .where(lead_scores.c.mql.is_(True))
        .where(lead_scores.c.as_of <= at)
        .where(
            sa.or_(
                lead_scores.c.mql_until.is_(None),
                lead_scores.c.mql_until > lead_scores.c.as_of,
            )
        )
        .where(eligible)
        .where(~_open_handoff_exists())
        .order_by(lead_scores.c.lead_id)
    )
    return [row.lead_id for row in conn.execute(query)]


def _open_episode(
    lifecycle: Lifecycle,
    conn: Connection,
    report: SyncReport,
    *,
    lead_id: int,
    at: datetime,
) -> None:
    """Move a new MQL to stage mql and open its handoff (checked again under lock)."""
    state = lock_state(conn, lead_id)
    if ho.open_handoff_of(conn, lead_id) is not None:
        return
    # Whether it is an MQL is read from lead_scores, the index of MQLs; what is
    # recorded comes from the lifecycle's scorer, at the instant it became one.
    stored = STORED.snapshot(conn, lead_id, at)
    if not stored.mql or stored.as_of is None or stored.as_of > at:
        return
    activity = stored.last_activity or stored.as_of
    if state.stage == Stage.RECYCLED and activity <= state.since:
        return
    if state.stage not in (*ENTRY_STAGES, Stage.RECYCLED) or state.since > at:
        return  # past the funnel's entry, or not yet known at ``at``
    crossed = min(at, max(activity, state.since))
    if stored.mql_until is not None and stored.mql_until <= crossed:
        return  # an MQL for no time at all (score exactly at the threshold)
    snap = (
        stored
        if isinstance(lifecycle.scorer, StoredScores)
        else lifecycle.scorer.snapshot(conn, lead_id, crossed)
    )
    if state.stage != Stage.MQL:
        reason = f"score {stored.score:.1f} reached the MQL threshold"
        transition = apply_move(
            conn,
            state,
            Stage.MQL,
            at=crossed,
            actor=THRESHOLD_RULE,
            reason=reason,
            snapshot=snap,
        )
        state = moved(state, transition)
    handoff = ho.create_handoff(conn, state, crossed, snap)
    report.created += 1
    report.handoff_ids.append(handoff.id)
    if lifecycle.maybe_auto_approve(conn, handoff, crossed):
        report.auto_approved += 1


# -- time-based moves on open handoffs ----------------------------------------

Action = tuple[datetime, str]


def _next_action(conn: Connection, handoff: ho.Handoff, at: datetime) -> Action | None:
    """The earliest thing due on an open handoff up to ``at``, if any."""
    actions: list[Action] = []
    lapse = _lapse_instant(conn, handoff, at)
    if lapse is not None:
        actions.append((lapse, "lapse"))
    if handoff.status == ho.HandoffStatus.APPROVED:
        if handoff.owner is None:
            actions.append((at, "route"))
        elif handoff.due_at is not None and handoff.escalated_at is None:
            actions.append((handoff.due_at, "overdue"))
    due = [a for a in actions if a[0] <= at]
    return min(due) if due else None


@dataclass(frozen=True)
class _Scored:
    """The stored score that decides whether a lead is still an MQL."""

    mql: bool
    mql_until: datetime | None
    as_of: datetime | None
    score: float
    disqualified_reason: str | None


def _score_row(conn: Connection, lead_id: int) -> _Scored | None:
    row = conn.execute(
        sa.select(
            lead_scores.c.mql,
            lead_scores.c.mql_until,
            lead_scores.c.as_of,
            lead_scores.c.score,
            lead_scores.c.disqualified_reason,
        ).where(lead_scores.c.lead_id == lead_id)
    ).first()
    if row is None:
        return None
    return _Scored(
        mql=bool(row.mql),
        mql_until=as_utc(row.mql_until),
        as_of=as_utc(row.as_of),
        score=float(row.score or 0.0),
        disqualified_reason=row.disqualified_reason,
    )


def _rescored_out(row: _Scored | None, handoff: ho.Handoff) -> bool:
    """Whether a scoring after the handoff opened took the lead out of MQL.

    A score older than the handoff that is not an MQL is a person's manual move to
    mql (``mql move LEAD mql``): it stands until a person or a rescoring ends it.
    """
    if row is None or row.mql or row.as_of is None:
        return False
    return row.as_of > handoff.created_at


def _lapse_instant(
    conn: Connection, handoff: ho.Handoff, at: datetime
) -> datetime | None:
    """When the lead's MQL ends by its current score (None: it does not).

    An MQL ends at its ``mql_until``. A lead rescored out of MQL (e.g. by a
    disqualifier) ends when a sync sees it, at the sync's instant, never earlier
    (an earlier sync may have shown the handoff still pending).
    """
    row = _score_row(conn, handoff.lead_id)
    if row is None:
        return None
    if row.mql:
        return row.mql_until
    if not _rescored_out(row, handoff) or row.as_of is None:
        return None
    return max(at, row.as_of)


def _open_handoffs(conn: Connection) -> list[ho.Handoff]:
    return [
        ho.get_handoff(conn, row.id)
        for row in conn.execute(
            sa.select(handoffs.c.id).where(handoffs.c.closed_at.is_(None))
        )
    ]


def _apply_due(lifecycle: Lifecycle, at: datetime, report: SyncReport) -> None:
    """Apply lapses, SLA actions and late routing in the order they fell due."""
    queue: list[tuple[datetime, int]] = []
    with lifecycle.store.begin() as conn:
        for handoff in _open_handoffs(conn):
            action = _next_action(conn, handoff, at)
            if action is not None:
                queue.append((action[0], handoff.id))
    heapq.heapify(queue)
    while queue:
        popped = [heapq.heappop(queue) for _ in range(min(BATCH_SIZE, len(queue)))]
        units: list[Unit[datetime | None]] = [
            (f"handoff {hid}", partial(_apply_one, lifecycle, handoff_id=hid, at=at))
            for _, hid in popped
        ]
        followings = _batch(lifecycle, units, report)
        for (_, handoff_id), following in zip(popped, followings, strict=True):
            if following is not None:
                heapq.heappush(queue, (following, handoff_id))


def _apply_one(
    lifecycle: Lifecycle,
    conn: Connection,
    report: SyncReport,
    *,
    handoff_id: int,
    at: datetime,
) -> datetime | None:
    """Apply the handoff's earliest due action; return when its next one is due."""
    handoff = ho.get_handoff(conn, handoff_id)
    state = lock_state(conn, handoff.lead_id)
    handoff = ho.get_handoff(conn, handoff_id)
    action = _next_action(conn, handoff, at) if handoff.is_open else None
    if action is None:
        return None
    instant, kind = action
    if kind == "lapse":
        _lapse(lifecycle, conn, handoff, state, instant)
        report.lapsed += 1
        return None
    if kind == "route":
        decision = ho.route(conn, lifecycle.config, handoff, instant)
        if decision.owner is None:
            return None
        report.routed += 1
    elif ho.escalate(conn, lifecycle.config, handoff, instant) == "reassigned":
        report.reassigned += 1
    else:
        report.escalated += 1
    follow = _next_action(conn, ho.get_handoff(conn, handoff_id), at)
    return follow[0] if follow is not None else None


def _lapse(
    lifecycle: Lifecycle,
    conn: Connection,
    handoff: ho.Handoff,
    fresh: LeadState,
    instant: datetime,
) -> None:
    """Close a handoff whose MQL ended; recycle (or disqualify) the lead."""
    target, reason = _why_it_ended(_score_row(conn, handoff.lead_id), handoff)
    ho.close(conn, handoff, instant, ho.HandoffStatus.LAPSED, LAPSE_RULE, reason)
    if fresh.stage == Stage.MQL:
        snap = lifecycle.scorer.snapshot(conn, handoff.lead_id, instant)
        apply_move(
            conn,
            fresh,
            target,
            at=max(instant, fresh.since),
            actor=LAPSE_RULE,
            reason=reason,
            snapshot=snap,
            handoff_id=handoff.id,
        )


def _why_it_ended(row: _Scored | None, handoff: ho.Handoff) -> tuple[Stage, str]:
    """The stage a lapsed MQL goes to and the reason recorded."""
    if not _rescored_out(row, handoff) or row is None:
        return Stage.RECYCLED, INTENT_DECAYED
    if row.disqualified_reason:
        return Stage.DISQUALIFIED, f"disqualified: {row.disqualified_reason}"
    return (
        Stage.RECYCLED,
        f"rescored below the MQL threshold (score {row.score:.1f})",
    )


def next_due(conn: Connection, at: datetime) -> datetime | None:
    """The earliest instant after ``at`` at which something falls due."""
    lapse = (
        sa.select(sa.func.min(lead_scores.c.mql_until))
        .select_from(
            handoffs.join(lead_scores, lead_scores.c.lead_id == handoffs.c.lead_id)
        )
        .where(handoffs.c.closed_at.is_(None))
        .where(lead_scores.c.mql.is_(True))
        .where(lead_scores.c.mql_until > at)
    )
    sla = (
        sa.select(sa.func.min(handoffs.c.due_at))
        .where(handoffs.c.closed_at.is_(None))
        .where(handoffs.c.status == ho.HandoffStatus.APPROVED.value)
        .where(handoffs.c.escalated_at.is_(None))
        .where(handoffs.c.due_at > at)
    )
    found = [as_utc(conn.execute(q).scalar()) for q in (lapse, sla)]
    values = [v for v in found if v is not None]
    return min(values) if values else None


def run(
    lifecycle: Lifecycle,
    *,
    max_sleep: float,
    keep_going: Callable[[], bool],
    deliver: Callable[[], object] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Sync, deliver, then sleep until the next due instant (at most ``max_sleep``).

    Runs while ``keep_going()`` is true; returns the number of syncs. New MQLs come
    from rescoring, which a due instant cannot foresee, so ``max_sleep`` bounds how
    late one is noticed.
    """
    rounds = 0
    while keep_going():
        report = sync(lifecycle)
        rounds += 1
        if deliver is not None:
            deliver()
        wait = max_sleep
        if report.next_due is not None:
            until_due = (report.next_due - lifecycle.clock()).total_seconds()
            wait = min(max_sleep, max(0.0, until_due))
        sleep(wait)
    return rounds
