"""The lifecycle's public face: every move and decision, one transaction each.

>>> from mql.store import open_store
>>> lifecycle = Lifecycle(open_store("sqlite://"))
>>> lifecycle.handoffs()
[]
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mql.errors import LifecycleError
from mql.lifecycle import handoffs as ho
from mql.lifecycle.approval import auto_approves
from mql.lifecycle.bant import Bant, Opportunity
from mql.lifecycle.calendar import business_hours_between
from mql.lifecycle.config import LifecycleConfig
from mql.lifecycle.leads import Scorer, StoredScores, resolve_lead
from mql.lifecycle.records import AUTO_APPROVAL, Actor, Transition
from mql.lifecycle.stages import Stage, parse_stage
from mql.lifecycle.transitions import (
    ConcurrentMoveError,
    LeadState,
    apply_move,
    history,
    lock_state,
    moved,
)
from mql.store import Store

if TYPE_CHECKING:
    from mql.lifecycle.sync import SyncReport

logger = logging.getLogger(__name__)

#: A move that lost a race with another process is tried again this many times.
MAX_RETRIES = 5

T = TypeVar("T")


def now() -> datetime:
    """The current instant in UTC."""
    return datetime.now(UTC)


class Lifecycle:
    """Moves, handoff decisions and routing over one store and configuration."""

    def __init__(
        self,
        store: Store,
        config: LifecycleConfig | None = None,
        scorer: Scorer | None = None,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.store = store
        self.config = config or LifecycleConfig()
        self.scorer: Scorer = scorer or StoredScores()
        self.clock = clock

    # -- plumbing -----------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.store.begin() as conn:
            yield conn

    def _retrying(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a transaction, again if another process won a race."""
        for attempt in range(1, MAX_RETRIES + 1):
            try:
                with self._tx() as conn:
                    return work(conn)
            except (ConcurrentMoveError, sa.exc.IntegrityError) as exc:
                if attempt == MAX_RETRIES:
                    raise LifecycleError(
                        f"gave up after {MAX_RETRIES} attempts: another process kept "
                        f"changing the same lead ({exc.__class__.__name__}); retry"
                    ) from exc
                logger.debug("retrying after a race (%s)", exc.__class__.__name__)
            except sa.exc.OperationalError as exc:
                if not _is_retryable(exc) or attempt == MAX_RETRIES:
                    raise
        raise AssertionError("unreachable")

    def _at(self, at: datetime | None) -> datetime:
        if at is None:
            return self.clock()
        if at.tzinfo is None:
            raise LifecycleError(
                f"naive instant {at.isoformat()}; give a time zone, e.g. +00:00"
            )
        return at

    def lead_id(self, ref: str | int) -> int:
        """The id of the lead named by id, email or external id."""
        with self._tx() as conn:
            return resolve_lead(conn, ref)

    # -- reading ------------------------------------------------------------

    def history(self, lead: str | int) -> list[Transition]:
        """Every move of a lead, oldest first."""
        with self._tx() as conn:
            return history(conn, resolve_lead(conn, lead))

    def stage(self, lead: str | int) -> Stage:
        """The lead's current stage."""
        with self._tx() as conn:
            return lock_state(conn, resolve_lead(conn, lead)).stage

    def handoffs(
        self,
        status: str | None = None,
        owner: str | None = None,
        lead: str | int | None = None,
    ) -> list[ho.Handoff]:
        """Handoffs, newest first, optionally of one status, owner or lead."""
        wanted = ho.parse_status(status) if status is not None else None
        with self._tx() as conn:
            if owner is not None:
                self._require_owner(conn, owner)
            lead_id = resolve_lead(conn, lead) if lead is not None else None
            return ho.list_handoffs(conn, wanted, owner, lead_id)

    def _require_owner(self, conn: Connection, owner: str) -> None:
        """Refuse an owner neither configured nor named on any handoff."""
        if self.config.owner(owner) is not None or ho.has_owner(conn, owner):
            return
        known = ", ".join(o.id for o in self.config.owners)
        where = (
            f"the configured owners are {known}"
            if known
            else "no owners are configured (give --config or lifecycle.yaml)"
        )
        raise LifecycleError(
            f"owner: {owner!r} is not a configured owner and has no handoffs; {where}"
        )

    def handoff(self, handoff_id: int) -> ho.Handoff:
        """One handoff by id."""
        with self._tx() as conn:
            return ho.get_handoff(conn, handoff_id)

    # -- moves --------------------------------------------------------------

    def move(
        self,
        lead: str | int,
        stage: str | Stage,
        actor: Actor,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> Transition:
        """Move a lead to any stage (skips and moves back need a reason).

        Entering SQL, opportunity or client has its own method because each needs
        more than a reason (:meth:`qualify`, :meth:`open_opportunity`, :meth:`win`).
        """
        target = parse_stage(stage) if isinstance(stage, str) else stage
        if target in _GUARDED:
            raise LifecycleError(
                f"moving to {target} needs {_GUARDED[target]}; use that command"
            )
        when = self._at(at)

        def work(conn: Connection) -> Transition:
            state = lock_state(conn, resolve_lead(conn, lead))
            if target == Stage.SAL and state.stage not in _ACCEPTED_BEFORE:
                self._refuse_sal(conn, state)
            handoff_id = self._withdraw(conn, state, target, actor, reason, when)
            snap = self.scorer.snapshot(conn, state.lead_id, when)
            transition = apply_move(
                conn,
                state,
                target,
                at=when,
                actor=actor,
                reason=reason,
                snapshot=snap,
                handoff_id=handoff_id,
            )
            if target == Stage.MQL:
                ho.create_handoff(conn, moved(state, transition), when, snap, actor)
            return transition

        return self._retrying(work)

    def _refuse_sal(self, conn: Connection, state: LeadState) -> None:
        """A lead reaches SAL only by the owner accepting its approved handoff."""
        handoff = ho.open_handoff_of(conn, state.lead_id)
        lead = state.lead_id
        if handoff is None:
            raise LifecycleError(
                f"lead {lead} (stage {state.stage}) has no approved handoff; a lead "
                "becomes SAL only when its owner accepts an approved handoff: "
                f"`mql move {lead} mql` opens one, `mql handoffs approve ID` "
                f"approves it, then `mql accept {lead}`"
            )
        if handoff.status == ho.HandoffStatus.PENDING:
            raise LifecycleError(
                f"lead {lead} has handoff {handoff.id}, still pending; it needs "
                f"approval first (`mql handoffs approve {handoff.id}`), then the "
                f"owner accepts it with `mql accept {lead}`"
            )
        raise LifecycleError(
            f"lead {lead} has handoff {handoff.id} (approved); the owner accepts it "
            f"with `mql accept {lead}`, which moves it to SAL"
        )

    def _withdraw(
        self,
        conn: Connection,
        state: LeadState,
        target: Stage,
        actor: Actor,
        reason: str | None,
        at: datetime,
    ) -> int | None:
        """Close the open handoff of a lead moved out of MQL by hand."""
        handoff = ho.open_handoff_of(conn, state.lead_id)
        if handoff is None:
            return None
        if target == Stage.SAL:
            self._refuse_sal(conn, state)
        ho.close(
            conn,
            handoff,
            at,
            ho.HandoffStatus.WITHDRAWN,
            actor,
            f"lead moved to {target}: {reason}",
        )
        return handoff.id

    def approve(
        self,
        handoff_id: int,
        actor: Actor,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> ho.Handoff:
        """A person approves a pending handoff; it is routed at once."""
        when = self._at(at)

        def work(conn: Connection) -> ho.Handoff:
            handoff = ho.get_handoff(conn, handoff_id)
            lock_state(conn, handoff.lead_id)
            ho.require_not_before(handoff, when, "approve")
            approved = ho.decide(conn, handoff, when, actor, True, reason)
            ho.route(conn, self.config, approved, when)
            return ho.get_handoff(conn, handoff_id)

        return self._retrying(work)

    def reject(
        self, handoff_id: int, actor: Actor, reason: str, at: datetime | None = None
    ) -> ho.Handoff:
        """A person rejects a pending handoff; the lead is recycled with the reason."""
        when = self._at(at)

        def work(conn: Connection) -> ho.Handoff:
            handoff = ho.get_handoff(conn, handoff_id)
            state = lock_state(conn, handoff.lead_id)
            ho.require_not_before(handoff, when, "reject")
            rejected = ho.decide(conn, handoff, when, actor, False, reason)
            self._leave_mql(
                conn,
                state,
                Stage.RECYCLED,
                actor,
                f"handoff rejected: {reason}",
                when,
                handoff_id,
            )
            return rejected

        return self._retrying(work)

    def _leave_mql(
        self,
        conn: Connection,
        state: LeadState,
        target: Stage,
        actor: Actor,
        reason: str | None,
        at: datetime,
        handoff_id: int,
        details: dict[str, Any] | None = None,
    ) -> Transition:
        if state.stage != Stage.MQL:
            raise LifecycleError(
                f"lead {state.lead_id} is in stage {state.stage}, not mql; its "
                f"handoff {handoff_id} cannot move it"
            )
        snap = self.scorer.snapshot(conn, state.lead_id, at)
        return apply_move(
            conn,
            state,
            target,
            at=at,
            actor=actor,
            reason=reason,
            snapshot=snap,
            handoff_id=handoff_id,
            details=details,
        )

    def accept(
        self, lead: str | int, actor: Actor, at: datetime | None = None
    ) -> Transition:
        """The owner accepts the lead's approved handoff: the lead becomes SAL."""
        when = self._at(at)

        def work(conn: Connection) -> Transition:
            state, handoff = self._approved_handoff(conn, lead, "accept", when)
            if handoff.owner is None:
                raise LifecycleError(
                    f"cannot accept handoff {handoff.id} of lead {handoff.lead_id}: "
                    "it has no owner yet (nobody had spare capacity); add an owner "
                    "or capacity in the lifecycle configuration and run `mql "
                    "lifecycle sync`, which routes it"
                )
            ho.close(conn, handoff, when, ho.HandoffStatus.ACCEPTED, actor, None)
            details: dict[str, Any] = {"owner": handoff.owner, "due_at": handoff.due_at}
            if handoff.routed_at is not None:
                calendar = self.config.sla.calendar()
                hours = business_hours_between(handoff.routed_at, when, calendar)
                details["response_business_hours"] = round(hours, 2)
                details["within_sla"] = handoff.due_at is None or when <= handoff.due_at
            return self._leave_mql(
                conn, state, Stage.SAL, actor, None, when, handoff.id, details
            )

        return self._retrying(work)

    def decline(
        self, lead: str | int, actor: Actor, reason: str, at: datetime | None = None
    ) -> Transition:
        """The owner declines the lead's approved handoff with a reason: recycled."""
        when = self._at(at)
        if not reason.strip():
            raise LifecycleError("declining a handoff needs a reason (--reason TEXT)")

        def work(conn: Connection) -> Transition:
            state, handoff = self._approved_handoff(conn, lead, "decline", when)
            ho.close(conn, handoff, when, ho.HandoffStatus.DECLINED, actor, reason)
            return self._leave_mql(
                conn,
                state,
                Stage.RECYCLED,
                actor,
                f"declined by owner: {reason}",
                when,
                handoff.id,
            )

        return self._retrying(work)

    def _approved_handoff(
        self, conn: Connection, lead: str | int, doing: str, when: datetime
    ) -> tuple[LeadState, ho.Handoff]:
        state = lock_state(conn, resolve_lead(conn, lead))
        handoff = ho.open_handoff_of(conn, state.lead_id)
        if handoff is None:
            raise LifecycleError(
                f"lead {state.lead_id} (stage {state.stage}) has no open handoff "
                f"to {doing}; see `mql handoffs list`"
            )
        ho.require_status(handoff, ho.HandoffStatus.APPROVED, doing=doing)
        ho.require_not_before(handoff, when, doing)
        return state, handoff

    def qualify(
        self,
        lead: str | int,
        bant: dict[str, Any],
        actor: Actor,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> Transition:
        """SAL -> SQL once budget, authority, need and timeline are confirmed."""
        return self._move_recording(
            lead, Stage.SQL, Bant, "bant", bant, actor, at, reason
        )

    def open_opportunity(
        self,
        lead: str | int,
        opportunity: dict[str, Any],
        actor: Actor,
        at: datetime | None = None,
        reason: str | None = None,
    ) -> Transition:
        """SQL -> opportunity with its value and expected close."""
        return self._move_recording(
            lead,
            Stage.OPPORTUNITY,
            Opportunity,
            "opportunity",
            opportunity,
            actor,
            at,
            reason,
        )

    def _move_recording(
        self,
        lead: str | int,
        stage: Stage,
        record: type[Bant] | type[Opportunity],
        key: str,
        data: dict[str, Any],
        actor: Actor,
        at: datetime | None,
        reason: str | None,
    ) -> Transition:
        """Move to ``stage``, keeping ``data`` (checked as ``record``) at ``key``."""
        when = self._at(at)
        parsed = record.parse(data, today=when.date())
        details = {key: parsed.model_dump(mode="json")}
        return self._guarded_move(lead, stage, actor, when, reason, details)

    def win(
        self, lead: str | int, reason: str, actor: Actor, at: datetime | None = None
    ) -> Transition:
        """Opportunity -> client (won work), with the reason it was won.

        Only an opportunity can be won: its value and close date come with it.
        """
        return self._guarded_move(
            lead,
            Stage.CLIENT,
            actor,
            self._at(at),
            reason,
            {"outcome": "won"},
            only_from=Stage.OPPORTUNITY,
        )

    def lose(
        self, lead: str | int, reason: str, actor: Actor, at: datetime | None = None
    ) -> Transition:
        """A lost opportunity (or SQL/SAL) goes back to nurture with the reason."""
        when = self._at(at)

        def work(conn: Connection) -> Transition:
            state = lock_state(conn, resolve_lead(conn, lead))
            if state.stage not in (Stage.SAL, Stage.SQL, Stage.OPPORTUNITY):
                raise LifecycleError(
                    f"lead {state.lead_id} is in stage {state.stage}; only a sal, "
                    "sql or opportunity can be lost"
                )
            snap = self.scorer.snapshot(conn, state.lead_id, when)
            return apply_move(
                conn,
                state,
                Stage.RECYCLED,
                at=when,
                actor=actor,
                reason=f"lost: {reason}" if reason.strip() else "",
                snapshot=snap,
                details={"outcome": "lost", "from": state.stage.value},
            )

        return self._retrying(work)

    def _guarded_move(
        self,
        lead: str | int,
        target: Stage,
        actor: Actor,
        at: datetime,
        reason: str | None,
        details: dict[str, Any],
        only_from: Stage | None = None,
    ) -> Transition:
        def work(conn: Connection) -> Transition:
            state = lock_state(conn, resolve_lead(conn, lead))
            if only_from is not None and state.stage != only_from:
                raise LifecycleError(
                    f"lead {state.lead_id} is in stage {state.stage}; only a lead in "
                    f"{only_from} can move to {target} (open the opportunity first "
                    "with `mql opportunity`)"
                )
            handoff_id = self._withdraw(conn, state, target, actor, reason, at)
            snap = self.scorer.snapshot(conn, state.lead_id, at)
            return apply_move(
                conn,
                state,
                target,
                at=at,
                actor=actor,
                reason=reason,
                snapshot=snap,
                details=details,
                handoff_id=handoff_id,
            )

        return self._retrying(work)

    # -- rules --------------------------------------------------------------

    def sync(self, at: datetime | None = None) -> SyncReport:
        """Apply everything due up to ``at``; see :func:`mql.lifecycle.sync.sync`."""
        from mql.lifecycle.sync import sync

        return sync(self, at)

    def maybe_auto_approve(
        self, conn: Connection, handoff: ho.Handoff, at: datetime
    ) -> bool:
        """Approve (and route) a new handoff if the policy allows; recorded as auto."""
        policy = self.config.approval
        if not auto_approves(policy, handoff.score or 0.0, handoff.grade or "D"):
            return False
        reason = f"auto: grade {handoff.grade} and score >= {policy.min_score:g}"
        approved = ho.decide(conn, handoff, at, AUTO_APPROVAL, True, reason)
        ho.route(conn, self.config, approved, at)
        return True


#: Stages after SAL: a lead there was accepted before and may move back to SAL.
_ACCEPTED_BEFORE = (Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CLIENT)

_GUARDED = {
    Stage.SQL: "BANT (`mql bant`)",
    Stage.OPPORTUNITY: "a value and expected close (`mql opportunity`)",
    Stage.CLIENT: "a won reason (`mql won`)",
}


def _is_retryable(exc: sa.exc.OperationalError) -> bool:
    """Lock waits that another attempt can get past (SQLite busy, PG deadlock)."""
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in ("database is locked", "deadlock", "could not serialize")
    )
