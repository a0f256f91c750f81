"""Defects found by trying the lifecycle from the command line, pinned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mql.errors import LifecycleError
from mql.lifecycle import Actor, Lifecycle, parse_config
from mql.lifecycle.stages import Stage, check_move

from .conftest import T0, add_lead, set_score


def test_a_refused_exit_does_not_list_itself_as_a_move_without_reason() -> None:
    with pytest.raises(
        LifecycleError,
        match=r"^moving opportunity -> client is a forward move and needs a reason "
        r"\(--reason TEXT\); moves from opportunity without a reason: none$",
    ):
        check_move(Stage.OPPORTUNITY, Stage.CLIENT, " ")


def test_a_lead_is_named_by_id_colon_n_as_mql_explain_takes_it(
    lifecycle: Lifecycle,
) -> None:
    lead_id = add_lead(lifecycle.store, "cfo@acme.example")
    assert lifecycle.lead_id(f"id:{lead_id}") == lead_id
    assert lifecycle.lead_id(f" ID:{lead_id} ") == lead_id


def test_an_unknown_lead_points_at_a_command_that_exists(
    lifecycle: Lifecycle,
) -> None:
    with pytest.raises(
        LifecycleError,
        match=r"^no lead 'nobody@x\.example': give a lead id \(or id:N\), email or "
        r"external id \(`mql handoffs list` shows the leads handed off\)$",
    ):
        lifecycle.lead_id("nobody@x.example")
    with pytest.raises(LifecycleError, match=r"^no lead 'id:999'"):
        lifecycle.lead_id("id:999")


@pytest.mark.parametrize("ref", ["99999999999999999999", "id:2147483648"])
def test_an_id_beyond_the_column_is_no_lead_not_a_crash(
    lifecycle: Lifecycle, ref: str
) -> None:
    with pytest.raises(LifecycleError, match=rf"^no lead '{ref}'"):
        lifecycle.lead_id(ref)


def test_a_handoff_id_beyond_the_column_is_no_handoff_not_a_crash(
    lifecycle: Lifecycle,
) -> None:
    with pytest.raises(LifecycleError, match=r"^no handoff 99999999999999999999; "):
        lifecycle.handoff(99999999999999999999)


def test_an_unknown_time_zone_is_refused_when_the_file_is_read() -> None:
    text = (
        "owners:\n  - {id: ana, capacity: 3}\nsla: {hours: 8, timezone: Mars/Olympus}\n"
    )
    with pytest.raises(
        LifecycleError,
        match=r"^x\.yaml:3: sla: unknown time zone 'Mars/Olympus'; use an IANA name",
    ):
        parse_config(text, source="x.yaml")


def test_business_hours_ending_before_they_start_are_refused_when_read() -> None:
    text = 'sla:\n  start: "18:00"\n  end: "09:00"\n'
    with pytest.raises(
        LifecycleError,
        match=r"^x\.yaml:1: sla: business hours end 09:00:00 is not after start",
    ):
        parse_config(text, source="x.yaml")


def test_an_impossible_holiday_names_its_line_instead_of_crashing() -> None:
    text = "sla:\n  hours: 8\n  holidays: [2026-12-25, 2026-13-45]\n"
    with pytest.raises(
        LifecycleError,
        match=r"^x\.yaml:3: sla\.holidays\.1: '2026-13-45' is not a valid value "
        r"\(month must be in 1\.\.12\); write dates as YYYY-MM-DD",
    ):
        parse_config(text, source="x.yaml")


def _pending(lifecycle: Lifecycle) -> tuple[int, int]:
    lead = add_lead(lifecycle.store, "cfo@acme.example")
    set_score(
        lifecycle.store, lead, 72.0, True, T0, mql_until=T0 + timedelta(hours=200)
    )
    lifecycle.sync(T0 + timedelta(minutes=5))
    (handoff,) = lifecycle.handoffs(status="pending")
    return lead, handoff.id


def test_a_handoff_is_not_approved_before_it_was_created(
    lifecycle: Lifecycle,
) -> None:
    _, handoff_id = _pending(lifecycle)
    with pytest.raises(
        LifecycleError,
        match=r"^cannot approve handoff \d+ at 2026-11-30T10:00:00Z: it was created "
        r"at 2026-12-01T10:00:00Z; give a later --at$",
    ):
        lifecycle.approve(handoff_id, Actor("maria"), at=T0 - timedelta(days=1))
    with pytest.raises(LifecycleError, match=r"^cannot reject handoff \d+ at "):
        lifecycle.reject(handoff_id, Actor("maria"), "no", at=T0 - timedelta(days=1))


def test_a_handoff_is_not_accepted_before_it_was_routed(lifecycle: Lifecycle) -> None:
    lead, handoff_id = _pending(lifecycle)
    lifecycle.approve(handoff_id, Actor("maria"), at=T0 + timedelta(hours=2))
    with pytest.raises(
        LifecycleError,
        match=r"^cannot accept handoff \d+ at 2026-12-01T11:00:00Z: it was routed "
        r"at 2026-12-01T12:00:00Z; give a later --at$",
    ):
        lifecycle.accept(lead, Actor("ana"), at=T0 + timedelta(hours=1))
    with pytest.raises(LifecycleError, match=r"^cannot decline handoff \d+ at "):
        lifecycle.decline(lead, Actor("ana"), "busy", at=T0 + timedelta(hours=1))
    moved = lifecycle.accept(lead, Actor("ana"), at=T0 + timedelta(hours=3))
    assert moved.details["response_business_hours"] == 1.0
