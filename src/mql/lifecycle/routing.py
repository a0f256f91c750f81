"""Who gets an approved handoff: relationship owner, then rules, then round robin.

Pure: the caller passes each owner's load (open handoffs, last assignment).

>>> from mql.lifecycle.config import parse_config
>>> cfg = parse_config("owners: [{id: ana}, {id: ben}]")
>>> choose_owner(cfg, {}, {}).owner
'ana'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mql.lifecycle.config import LifecycleConfig, Owner, RoutingRule
from mql.scoring.conditions import matches

#: Sorts owners never assigned before every real assignment time.
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class OwnerLoad:
    """An owner's open handoffs (awaiting acceptance) and last assignment."""

    open: int = 0
    last_assigned: datetime | None = None


@dataclass(frozen=True)
class RoutingDecision:
    """The chosen owner (None when nobody can take it) and how it was chosen."""

    owner: str | None
    via: str
    detail: str


def choose_owner(
    config: LifecycleConfig,
    attributes: Mapping[str, Any],
    loads: Mapping[str, OwnerLoad],
    exclude: Collection[str] = (),
    turn: int = 0,
) -> RoutingDecision:
    """The owner for a handoff whose lead has ``attributes``.

    ``attributes`` holds the lead's fields with the account's under ``account.``.
    ``exclude`` lists owners who may not take it (e.g. the one it is taken from).
    ``turn`` (the handoff's number) rotates the choice among owners still tied.
    """
    field = f"account.{config.routing.relationship_owner_field}"
    partner = attributes.get(field)
    if partner:
        owner = config.owner(str(partner).strip())
        if owner is not None and owner.active and owner.id not in exclude:
            return RoutingDecision(owner.id, "relationship", f"{field} = {owner.id}")
    for rule in config.routing.rules:
        if not _rule_holds(rule, attributes):
            continue
        pool = [o for o in config.owners if o.id in rule.owners]
        chosen = _round_robin(pool, loads, exclude, turn)
        if chosen is not None:
            return RoutingDecision(chosen, "rule", f"rule {rule.name}")
    chosen = _round_robin(list(config.owners), loads, exclude, turn)
    if chosen is not None:
        return RoutingDecision(chosen, "round_robin", "next owner with capacity")
    return RoutingDecision(None, "none", "no active owner has spare capacity")


def _rule_holds(rule: RoutingRule, attributes: Mapping[str, Any]) -> bool:
    return all(matches(cond, attributes.get(name)) for name, cond in rule.when.items())


def _round_robin(
    pool: list[Owner],
    loads: Mapping[str, OwnerLoad],
    exclude: Collection[str],
    turn: int = 0,
) -> str | None:
    """A free owner: fewest open, then least recently assigned, then by ``turn``."""
    free = [
        owner
        for owner in pool
        if owner.active
        and owner.id not in exclude
        and loads.get(owner.id, OwnerLoad()).open < owner.capacity
    ]
    if not free:
        return None

    def key(owner: Owner) -> tuple[int, datetime]:
        load = loads.get(owner.id, OwnerLoad())
        return (load.open, load.last_assigned or _NEVER)

    best = min(key(owner) for owner in free)
    tied = [owner for owner in free if key(owner) == best]
    return tied[turn % len(tied)].id


def lead_attributes(
    lead: Mapping[str, Any], account: Mapping[str, Any] | None
) -> dict[str, Any]:
    """A lead's fields with its account's under ``account.``, as routing reads them."""
    merged = dict(lead)
    for key, value in (account or {}).items():
        merged[f"account.{key}"] = value
    return merged
