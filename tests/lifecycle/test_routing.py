"""Routing: relationship owner, then rules, then round robin with capacity."""

from __future__ import annotations

from datetime import UTC, datetime

from mql.lifecycle.config import parse_config
from mql.lifecycle.routing import OwnerLoad, choose_owner

from .conftest import CONFIG

CFG = parse_config(CONFIG)
T = datetime(2026, 12, 1, tzinfo=UTC)


def test_relationship_owner_comes_first_even_when_full() -> None:
    loads = {"ben": OwnerLoad(open=2)}
    decision = choose_owner(CFG, {"account.relationship_owner": "ben"}, loads)
    assert (decision.owner, decision.via) == ("ben", "relationship")


def test_a_matching_rule_picks_its_owners() -> None:
    decision = choose_owner(CFG, {"service_line": "Tax", "state": "CA"}, {})
    assert (decision.owner, decision.via, decision.detail) == (
        "cho",
        "rule",
        "rule tax-west",
    )


def test_a_full_rule_falls_back_to_round_robin() -> None:
    loads = {"cho": OwnerLoad(open=1)}
    decision = choose_owner(CFG, {"service_line": "tax", "state": "CA"}, loads)
    assert (decision.owner, decision.via) == ("ana", "round_robin")


def test_round_robin_takes_the_least_recently_assigned_with_capacity() -> None:
    loads = {
        "ana": OwnerLoad(open=1, last_assigned=T),
        "ben": OwnerLoad(open=0, last_assigned=datetime(2026, 11, 1, tzinfo=UTC)),
        "cho": OwnerLoad(open=1),
    }
    assert choose_owner(CFG, {}, loads).owner == "ben"
    loads["ben"] = OwnerLoad(open=2, last_assigned=T)
    assert choose_owner(CFG, {}, loads).owner == "ana"


def test_nobody_with_capacity_gives_no_owner() -> None:
    loads = {o: OwnerLoad(open=5) for o in ("ana", "ben", "cho")}
    decision = choose_owner(CFG, {}, loads)
    assert decision.owner is None
    assert decision.detail == "no active owner has spare capacity"


def test_excluded_owner_is_skipped() -> None:
    assert choose_owner(CFG, {}, {}, exclude=("ana",)).owner == "ben"
