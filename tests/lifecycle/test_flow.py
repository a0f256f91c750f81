"""From MQL to won work: episodes, approval, routing, SLA, BANT, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mql.errors import LifecycleError
from mql.lifecycle import INTENT_DECAYED, Actor, Lifecycle, export_handoffs, funnel
from mql.lifecycle.config import parse_config
from mql.lifecycle.stages import MoveKind, Stage
from mql.store.lifecycle_tables import handoffs, outbox_messages

from .conftest import CONFIG, T0, add_account, add_lead, set_score, to_sal

ANA = Actor("ana")
APPROVER = Actor("marketing.lead")


def _mql(lifecycle: Lifecycle, email: str, hours: float = 200, **attrs: object) -> int:
    lead = add_lead(lifecycle.store, email, **attrs)  # type: ignore[arg-type]
    set_score(
        lifecycle.store, lead, 72.0, True, T0, mql_until=T0 + timedelta(hours=hours)
    )
    return lead


def test_the_whole_path_from_mql_to_won(lifecycle: Lifecycle) -> None:
    account = add_account(lifecycle.store, "acme.example", relationship_owner="ben")
    lead = _mql(lifecycle, "cfo@acme.example", account_id=account)

    report = lifecycle.sync(T0 + timedelta(minutes=5))
    assert report.created == 1
    (handoff,) = lifecycle.handoffs(status="pending")
    assert (handoff.score, handoff.grade, handoff.episode) == (72.0, "A", 1)
    assert handoff.explanation
    assert handoff.explanation["groups"] == {"web": 42.0}

    approved = lifecycle.approve(handoff.id, APPROVER, at=T0 + timedelta(hours=1))
    assert (approved.owner, approved.routed_via) == ("ben", "relationship")
    assert approved.due_at == T0 + timedelta(hours=5)  # 4 business hours later

    lifecycle.accept(lead, Actor("ben"), at=T0 + timedelta(hours=2))
    bant = {
        "budget": 40000,
        "authority": "CFO",
        "need": "audit",
        "timeline": "2027-03-01",
    }
    lifecycle.qualify(lead, bant, Actor("ben"), at=T0 + timedelta(days=3))
    opp = {"value": 38000, "expected_close": "2027-02-01"}
    lifecycle.open_opportunity(lead, opp, Actor("ben"), at=T0 + timedelta(days=10))
    lifecycle.win(lead, "fee and team fit", Actor("ben"), at=T0 + timedelta(days=40))

    moves = [(t.from_stage, t.to_stage, t.actor_kind) for t in lifecycle.history(lead)]
    assert moves == [
        (Stage.LEAD, Stage.MQL, "rule"),
        (Stage.MQL, Stage.SAL, "person"),
        (Stage.SAL, Stage.SQL, "person"),
        (Stage.SQL, Stage.OPPORTUNITY, "person"),
        (Stage.OPPORTUNITY, Stage.CLIENT, "person"),
    ]
    history = lifecycle.history(lead)
    assert history[0].reason == "score 72.0 reached the MQL threshold"
    assert history[0].at == T0  # at the activity that made it an MQL
    assert history[1].details["response_business_hours"] == 1.0
    assert history[1].details["within_sla"] is True
    assert history[2].details["bant"]["budget"] == "40000"
    assert history[3].details["opportunity"]["value"] == "38000"
    assert history[4].reason == "fee and team fit"
    assert lifecycle.stage(lead) is Stage.CLIENT

    lines = {line.stage: line for line in funnel_of(lifecycle)}
    assert lines[Stage.CLIENT].current == 1
    assert lines[Stage.MQL].conversion_to_next == 1.0
    assert lines[Stage.SQL].median_days == pytest.approx(7.0)


def funnel_of(lifecycle: Lifecycle):  # type: ignore[no-untyped-def]
    with lifecycle.store.begin() as conn:
        return funnel(conn)


def test_one_handoff_per_episode_however_often_it_is_synced(
    lifecycle: Lifecycle,
) -> None:
    lead = _mql(lifecycle, "a@x.example")
    for minutes in range(5):
        lifecycle.sync(T0 + timedelta(minutes=minutes))
        # Rescored many times while still an MQL: same episode.
        set_score(
            lifecycle.store,
            lead,
            80.0 + minutes,
            True,
            T0 + timedelta(minutes=minutes),
            mql_until=T0 + timedelta(hours=300),
        )
    assert len(lifecycle.handoffs()) == 1


def test_the_database_refuses_a_second_open_handoff(lifecycle: Lifecycle) -> None:
    lead = _mql(lifecycle, "a@x.example")
    lifecycle.sync(T0)
    with pytest.raises(sa.exc.IntegrityError), lifecycle.store.begin() as conn:
        conn.execute(
            sa.insert(handoffs).values(
                lead_id=lead,
                episode=2,
                status="pending",
                created_at=T0,
                reassignments=0,
            )
        )


def test_an_mql_nobody_accepts_is_recycled_at_mql_until(lifecycle: Lifecycle) -> None:
    lead = _mql(lifecycle, "a@x.example", hours=30)
    first = lifecycle.sync(T0)
    assert first.next_due == T0 + timedelta(hours=30)
    report = lifecycle.sync(T0 + timedelta(days=5))
    assert report.lapsed == 1
    last = lifecycle.history(lead)[-1]
    assert (last.to_stage, last.reason, last.at) == (
        Stage.RECYCLED,
        INTENT_DECAYED,
        T0 + timedelta(hours=30),
    )
    assert lifecycle.handoffs()[0].status == "lapsed"
    # Still the same old score: no new episode until new activity.
    assert lifecycle.sync(T0 + timedelta(days=6)).created == 0
    set_score(
        lifecycle.store,
        lead,
        75.0,
        True,
        T0 + timedelta(days=7),
        mql_until=T0 + timedelta(days=20),
    )
    assert lifecycle.sync(T0 + timedelta(days=7)).created == 1
    assert sorted(h.episode for h in lifecycle.handoffs()) == [1, 2]
    assert lifecycle.history(lead)[-1].kind is MoveKind.REOPEN


def test_reject_needs_a_reason_and_recycles(lifecycle: Lifecycle) -> None:
    lead = _mql(lifecycle, "a@x.example")
    lifecycle.sync(T0)
    (handoff,) = lifecycle.handoffs()
    with pytest.raises(LifecycleError, match=r"rejecting handoff \d+ needs a reason"):
        lifecycle.reject(handoff.id, APPROVER, "  ", at=T0)
    lifecycle.reject(handoff.id, APPROVER, "student", at=T0 + timedelta(hours=1))
    assert lifecycle.history(lead)[-1].reason == "handoff rejected: student"
    with pytest.raises(LifecycleError, match="it is rejected, and only a pending"):
        lifecycle.approve(handoff.id, APPROVER)


def test_accepting_before_approval_is_refused(lifecycle: Lifecycle) -> None:
    lead = _mql(lifecycle, "a@x.example")
    lifecycle.sync(T0)
    with pytest.raises(
        LifecycleError, match="it is pending, and only an approved handoff"
    ):
        lifecycle.accept(lead, ANA, at=T0)


def test_overdue_handoffs_are_reassigned_then_escalated(lifecycle: Lifecycle) -> None:
    lead = _mql(lifecycle, "a@x.example", hours=1000)
    lifecycle.sync(T0)
    (handoff,) = lifecycle.handoffs()
    first = lifecycle.approve(handoff.id, APPROVER, at=T0)
    assert first.owner == "ana"  # round robin, file order
    report = lifecycle.sync(T0 + timedelta(days=3))
    assert (report.reassigned, report.escalated) == (1, 1)
    after = lifecycle.handoff(handoff.id)
    assert after.owner == "ben"
    assert after.reassignments == 1
    # Ben got it at ana's deadline (14:00) with 4 business hours: 3 today, 1 tomorrow.
    assert after.escalated_at == T0 + timedelta(hours=24)
    with lifecycle.store.begin() as conn:
        kinds = [r.kind for r in conn.execute(sa.select(outbox_messages.c.kind))]
    assert "handoff.reassigned" in kinds
    assert "handoff.escalated" in kinds
    lifecycle.decline(
        lead, Actor("ben"), "conflict of interest", at=T0 + timedelta(days=3)
    )
    assert lifecycle.stage(lead) is Stage.RECYCLED


def test_auto_approval_is_recorded_as_auto(store) -> None:  # type: ignore[no-untyped-def]
    config = parse_config(
        CONFIG + "approval: {auto: true, min_grade: A, min_score: 70}\n"
    )
    lifecycle = Lifecycle(store, config)
    good = _mql(lifecycle, "a@x.example")
    weak = add_lead(store, "b@x.example")
    set_score(store, weak, 72.0, True, T0, mql_until=T0 + timedelta(days=9), grade="B")
    report = lifecycle.sync(T0)
    assert (report.created, report.auto_approved) == (2, 1)
    by_lead = {h.lead_id: h for h in lifecycle.handoffs()}
    assert by_lead[good].decision_kind == "auto"
    assert by_lead[good].owner == "ana"
    assert by_lead[weak].status == "pending"


def test_skips_need_a_reason_and_guarded_stages_their_details(
    lifecycle: Lifecycle,
) -> None:
    lead = add_lead(lifecycle.store, "a@x.example")
    lifecycle.move(lead, "subscriber", ANA, reason="newsletter only", at=T0)
    with pytest.raises(
        LifecycleError, match="subscriber -> mql is a skip move and needs"
    ):
        lifecycle.move(lead, "mql", ANA, at=T0)
    with pytest.raises(
        LifecycleError, match=r"moving to sql needs BANT \(`mql bant`\)"
    ):
        lifecycle.move(lead, "sql", ANA, at=T0)
    with pytest.raises(LifecycleError, match="'won' is not a lifecycle stage"):
        lifecycle.move(lead, "won", ANA, at=T0)
    moved = lifecycle.move(
        lead, "mql", ANA, reason="partner referral, met already", at=T0
    )
    assert moved.kind is MoveKind.SKIP
    to_sal_from_mql(lifecycle, lead)
    with pytest.raises(
        LifecycleError, match=r"BANT is not valid: budget: Field required"
    ):
        lifecycle.qualify(
            lead,
            {"authority": "CEO", "need": "x1", "timeline": "2027-01-01"},
            ANA,
            at=T0,
        )


def test_opted_out_leads_are_handed_off_but_flagged_and_kept_out_of_email(
    lifecycle: Lifecycle,
) -> None:
    _mql(lifecycle, "ok@x.example")
    _mql(lifecycle, "no@x.example", do_not_email=True)
    lifecycle.sync(T0)
    assert len(lifecycle.handoffs()) == 2
    with lifecycle.store.begin() as conn:
        payloads = [
            r.payload for r in conn.execute(sa.select(outbox_messages.c.payload))
        ]
        crm = export_handoffs(conn, "crm")
        email = export_handoffs(conn, "email")
    flags = {p["lead"]["email"]: p["lead"]["consent"]["may_email"] for p in payloads}
    assert flags == {"ok@x.example": True, "no@x.example": False}
    assert "no@x.example" in crm
    assert "no@x.example" not in email
    assert "ok@x.example" in email


def test_every_transition_writes_an_outbox_message(lifecycle: Lifecycle) -> None:
    lead = add_lead(lifecycle.store, "a@x.example")
    lifecycle.move(lead, "disqualified", ANA, reason="competitor", at=T0)
    with lifecycle.store.begin() as conn:
        rows = conn.execute(sa.select(outbox_messages)).mappings().all()
    assert [r["kind"] for r in rows] == ["lead.stage_changed"]
    assert rows[0]["payload"]["data"]["reason"] == "competitor"


def test_an_mql_for_no_time_opens_no_handoff(lifecycle: Lifecycle) -> None:
    lead = add_lead(lifecycle.store, "edge@x.example")
    # Exactly at the threshold: the MQL ends the instant it starts.
    set_score(lifecycle.store, lead, 50.0, True, T0, mql_until=T0)
    assert lifecycle.sync(T0 + timedelta(days=1)).created == 0


def test_a_refused_lead_is_reported_and_the_others_go_on(lifecycle: Lifecycle) -> None:
    bad = add_lead(lifecycle.store, "bad@x.example", lifecycle_stage="prospect")
    good = _mql(lifecycle, "good@x.example")
    set_score(lifecycle.store, bad, 72.0, True, T0, mql_until=T0 + timedelta(days=9))
    report = lifecycle.sync(T0)
    assert report.created == 1
    assert len(report.errors) == 1
    assert (
        "lead 1: lead 1 lifecycle_stage: 'prospect' is not a lifecycle stage"
        in (report.errors[0])
    )
    assert lifecycle.stage(good) is Stage.MQL


def test_an_imported_stage_is_where_the_lead_starts(lifecycle: Lifecycle) -> None:
    lead = add_lead(lifecycle.store, "s@x.example", lifecycle_stage="Subscriber")
    set_score(lifecycle.store, lead, 72.0, True, T0, mql_until=T0 + timedelta(days=9))
    lifecycle.sync(T0)
    (move,) = lifecycle.history(lead)
    assert (move.from_stage, move.to_stage, move.kind) == (
        Stage.SUBSCRIBER,
        Stage.MQL,
        MoveKind.SKIP,
    )


def test_lost_work_is_recycled_with_the_reason(lifecycle: Lifecycle) -> None:
    lead = add_lead(lifecycle.store, "l@x.example")
    to_sal(lifecycle, lead, T0)
    with pytest.raises(LifecycleError, match="lead 1 is in stage sal; only"):
        lifecycle.win(lead, "x", ANA, at=T0)  # win only from opportunity
    lost = lifecycle.lose(lead, "chose a larger firm", ANA, at=T0 + timedelta(days=1))
    assert (lost.to_stage, lost.reason, lost.details["outcome"]) == (
        Stage.RECYCLED,
        "lost: chose a larger firm",
        "lost",
    )


def test_the_service_loop_sleeps_until_the_next_due_instant(
    lifecycle: Lifecycle,
) -> None:
    from mql.lifecycle.sync import run

    _mql(lifecycle, "a@x.example", hours=30)
    now = [T0]
    lifecycle.clock = lambda: now[0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += timedelta(seconds=seconds)

    rounds = run(
        lifecycle, max_sleep=86_400 * 7, keep_going=lambda: len(slept) < 2, sleep=sleep
    )
    assert rounds == 2
    assert slept[0] == 30 * 3600  # until the MQL lapses
    assert lifecycle.handoffs()[0].status == "lapsed"  # applied on the second round
    assert slept[1] == 86_400 * 7  # nothing due: the longest sleep


def to_sal_from_mql(lifecycle: Lifecycle, lead: int) -> None:
    """Approve and accept the pending handoff of a lead in mql."""
    (handoff,) = lifecycle.handoffs("pending")
    approved = lifecycle.approve(handoff.id, APPROVER, at=T0)
    lifecycle.accept(lead, Actor(approved.owner or ""), at=T0)
