"""Approval cannot be bypassed; lapses say why; ties in routing are shared fairly."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from mql.errors import LifecycleError
from mql.lifecycle import Actor, Lifecycle, export_handoffs, funnel, parse_config
from mql.lifecycle.handoffs import Handoff, handoff_log_of
from mql.lifecycle.stages import Stage
from mql.store import Store
from mql.store.lifecycle_tables import outbox_messages
from mql.store.tables import lead_scores

from .conftest import T0, add_lead, set_score

MARIA = Actor("maria")
HOUR = timedelta(hours=1)


def _of(lifecycle: Lifecycle, lead: int) -> list[Handoff]:
    return [h for h in lifecycle.handoffs() if h.lead_id == lead]


def _scored(store: Store, email: str | None, at: datetime = T0) -> int:
    """A lead whose stored score makes it an MQL at ``at``; sync opens its handoff."""
    lead = add_lead(store, email)  # type: ignore[arg-type]
    set_score(store, lead, 80.0, True, at, mql_until=at + 100 * HOUR)
    return lead


def test_a_manual_move_to_mql_opens_a_pending_handoff(lifecycle: Lifecycle) -> None:
    lead = add_lead(lifecycle.store, "a@x.example")
    moved = lifecycle.move(lead, "mql", MARIA, at=T0)
    assert (moved.to_stage, moved.actor) == (Stage.MQL, "maria")
    (handoff,) = _of(lifecycle, lead)
    assert (handoff.status, handoff.episode, handoff.created_at) == ("pending", 1, T0)
    with lifecycle.store.begin() as conn:
        (created,) = handoff_log_of(conn, handoff.id)
    assert (created["action"], created["actor"]) == ("created", "maria")
    # A sync does not lapse a person's MQL because the stored score is lower.
    set_score(lifecycle.store, lead, 20.0, False, T0 - HOUR)
    assert lifecycle.sync(T0 + 2 * HOUR).lapsed == 0
    assert lifecycle.handoff(handoff.id).status == "pending"


def test_two_bare_moves_cannot_make_a_lead_sal(lifecycle: Lifecycle) -> None:
    lead = add_lead(lifecycle.store, "a@x.example")
    with pytest.raises(
        LifecycleError,
        match=r"^lead 1 \(stage lead\) has no approved handoff; a lead becomes SAL "
        r"only when its owner accepts an approved handoff: `mql move 1 mql` opens "
        r"one, `mql handoffs approve ID` approves it, then `mql accept 1`$",
    ):
        lifecycle.move(lead, "sal", MARIA, reason="walk-in", at=T0)
    lifecycle.move(lead, "mql", MARIA, at=T0)
    (handoff,) = _of(lifecycle, lead)
    with pytest.raises(
        LifecycleError,
        match=rf"^lead 1 has handoff {handoff.id}, still pending; it needs approval "
        rf"first \(`mql handoffs approve {handoff.id}`\), then the owner accepts it "
        r"with `mql accept 1`$",
    ):
        lifecycle.move(lead, "sal", MARIA, at=T0)
    lifecycle.approve(handoff.id, MARIA, at=T0)
    with pytest.raises(
        LifecycleError,
        match=rf"^lead 1 has handoff {handoff.id} \(approved\); the owner accepts "
        r"it with `mql accept 1`, which moves it to SAL$",
    ):
        lifecycle.move(lead, "sal", MARIA, at=T0)
    assert lifecycle.stage(lead) == Stage.MQL
    assert lifecycle.accept(lead, Actor("ana"), at=T0 + HOUR).to_stage == Stage.SAL


def test_an_approved_handoff_without_owner_cannot_be_accepted(store: Store) -> None:
    lifecycle = Lifecycle(store)  # no owners configured: nobody is routed to
    lead = _scored(store, "a@x.example")
    lifecycle.sync(T0)
    (handoff,) = lifecycle.handoffs()
    assert lifecycle.approve(handoff.id, MARIA, at=T0).owner is None
    with pytest.raises(
        LifecycleError,
        match=rf"^cannot accept handoff {handoff.id} of lead 1: it has no owner yet "
        r"\(nobody had spare capacity\); add an owner or capacity in the lifecycle "
        r"configuration and run `mql lifecycle sync`, which routes it$",
    ):
        lifecycle.accept(lead, Actor("ana"), at=T0 + HOUR)
    assert lifecycle.stage(lead) == Stage.MQL


def _disqualify(store: Store, lead: int, scored_as_of: object, reason: str) -> None:
    set_score(store, lead, 0.0, False, T0, as_of=scored_as_of)  # type: ignore[arg-type]
    with store.begin() as conn:
        conn.execute(
            sa.update(lead_scores)
            .where(lead_scores.c.lead_id == lead)
            .values(disqualified_reason=reason)
        )


def test_a_disqualified_mql_is_recorded_as_such_when_the_sync_sees_it(
    lifecycle: Lifecycle,
) -> None:
    lead = add_lead(lifecycle.store, "a@x.example")
    set_score(lifecycle.store, lead, 80.0, True, T0, mql_until=T0 + 100 * HOUR)
    lifecycle.sync(T0 + HOUR)
    lifecycle.sync(T0 + 3 * HOUR)  # still pending at this sync
    # The rescoring is dated at the activity, before the last sync.
    _disqualify(lifecycle.store, lead, T0 + 2 * HOUR, "competitor")
    report = lifecycle.sync(T0 + 5 * HOUR)
    assert report.lapsed == 1
    (handoff,) = _of(lifecycle, lead)
    assert (handoff.status, handoff.close_reason, handoff.closed_at) == (
        "lapsed",
        "disqualified: competitor",
        T0 + 5 * HOUR,
    )
    last = lifecycle.history(lead)[-1]
    assert (last.to_stage, last.reason, last.at) == (
        Stage.DISQUALIFIED,
        "disqualified: competitor",
        T0 + 5 * HOUR,
    )


def test_a_mql_that_runs_out_still_lapses_with_intent_decayed(
    lifecycle: Lifecycle,
) -> None:
    lead = add_lead(lifecycle.store, "a@x.example")
    set_score(lifecycle.store, lead, 80.0, True, T0, mql_until=T0 + HOUR)
    lifecycle.sync(T0 + 2 * HOUR)
    last = lifecycle.history(lead)[-1]
    assert (last.to_stage, last.reason, last.at) == (
        Stage.RECYCLED,
        "intent decayed",
        T0 + HOUR,
    )


ROUND_ROBIN = """
owners:
  - {id: ana, capacity: 10}
  - {id: ben, capacity: 10}
  - {id: cho, capacity: 10}
"""


def test_approvals_at_one_instant_are_shared_out(store: Store) -> None:
    lifecycle = Lifecycle(store, parse_config(ROUND_ROBIN, source="rr.yaml"))
    for i in range(9):
        _scored(store, f"l{i}@x.example")
    lifecycle.sync(T0)
    for handoff in sorted(lifecycle.handoffs(), key=lambda h: h.id):
        lifecycle.approve(handoff.id, MARIA, at=T0 + HOUR)
    owners = Counter(h.owner for h in lifecycle.handoffs())
    assert owners == {"ana": 3, "ben": 3, "cho": 3}


def test_late_routing_in_one_sync_is_shared_out(store: Store) -> None:
    lifecycle = Lifecycle(store)  # nobody to route to yet
    for i in range(6):
        _scored(store, f"l{i}@x.example")
    lifecycle.sync(T0)
    for handoff in lifecycle.handoffs():
        lifecycle.approve(handoff.id, MARIA, at=T0)
    config = parse_config(ROUND_ROBIN, source="rr.yaml")
    assert Lifecycle(store, config).sync(T0 + HOUR).routed == 6
    owners = Counter(h.owner for h in lifecycle.handoffs())
    assert owners == {"ana": 2, "ben": 2, "cho": 2}


def test_unknown_statuses_and_owners_are_refused(lifecycle: Lifecycle) -> None:
    with pytest.raises(
        LifecycleError,
        match=r"^status: 'nope' is not a handoff status; use one of pending, "
        r"approved, accepted, rejected, declined, lapsed, withdrawn$",
    ):
        lifecycle.handoffs(status="nope")
    with (
        lifecycle.store.begin() as conn,
        pytest.raises(LifecycleError, match=r"^status: 'nope' is not a handoff"),
    ):
        export_handoffs(conn, "crm", "nope")
    with pytest.raises(
        LifecycleError,
        match=r"^owner: 'nobody' is not a configured owner and has no handoffs; "
        r"the configured owners are ana, ben, cho$",
    ):
        lifecycle.handoffs(owner="nobody")
    assert lifecycle.handoffs(owner="ben") == []


def test_an_email_export_leaves_out_leads_without_an_address(
    lifecycle: Lifecycle,
) -> None:
    with_address = _scored(lifecycle.store, "a@x.example")
    _scored(lifecycle.store, None)
    lifecycle.sync(T0)
    with lifecycle.store.begin() as conn:
        email = export_handoffs(conn, "email").splitlines()
        crm = export_handoffs(conn, "crm").splitlines()
    assert [line.split(",")[1] for line in email[1:]] == [str(with_address)]
    assert len(crm) == 3
    assert ",2026-12-01T10:00:00Z," in email[1]  # created_at: UTC, seconds, Z


def test_newest_first_puts_the_later_of_a_tie_first(lifecycle: Lifecycle) -> None:
    for i in range(3):
        lead = add_lead(lifecycle.store, f"l{i}@x.example")
        set_score(lifecycle.store, lead, 80.0, True, T0, mql_until=T0 + 9 * HOUR)
    lifecycle.sync(T0 + HOUR)
    listed = lifecycle.handoffs()
    assert {h.created_at for h in listed} == {T0}
    assert [h.id for h in listed] == sorted((h.id for h in listed), reverse=True)


def test_the_funnel_counts_leads_that_reached_recycled_and_disqualified(
    lifecycle: Lifecycle,
) -> None:
    gone = add_lead(lifecycle.store, "a@x.example")
    back = add_lead(lifecycle.store, "b@x.example")
    lifecycle.move(gone, "disqualified", MARIA, reason="competitor", at=T0)
    lifecycle.move(back, "recycled", MARIA, reason="no budget", at=T0)
    lifecycle.move(back, "lead", MARIA, at=T0 + HOUR)
    with lifecycle.store.begin() as conn:
        lines = {line.stage: line for line in funnel(conn)}
    assert (lines[Stage.DISQUALIFIED].current, lines[Stage.DISQUALIFIED].reached) == (
        1,
        1,
    )
    assert (lines[Stage.RECYCLED].current, lines[Stage.RECYCLED].reached) == (0, 1)


def test_outbox_instants_are_utc_to_the_second_with_z(lifecycle: Lifecycle) -> None:
    odd = T0 + timedelta(microseconds=250)
    lead = _scored(lifecycle.store, "a@x.example", at=odd)
    lifecycle.sync(odd)
    (handoff,) = _of(lifecycle, lead)
    lifecycle.approve(handoff.id, MARIA, at=odd)
    lifecycle.accept(lead, Actor("ana"), at=odd)
    with lifecycle.store.begin() as conn:
        payloads = [row.payload for row in conn.execute(sa.select(outbox_messages))]
    assert payloads
    assert {p["at"] for p in payloads} == {"2026-12-01T10:00:00Z"}
    routed = next(p for p in payloads if p["kind"] == "handoff.routed")
    assert routed["data"]["due_at"] == "2026-12-01T14:00:00Z"
