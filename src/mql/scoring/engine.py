"""The per-lead engine: lead state from attributes and events, read at any instant.

``apply_event`` moves a state forward by one event in O(groups); ``read`` gives the
score at any instant at or after the last activity in O(groups). The maths is in
docs/scoring.md.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from mql.errors import LateEventError, ScoringError
from mql.model.schema import IntentRule, Model
from mql.scoring.compiled import (
    Compiled,
    compiled,
    disqualifier_of,
    fit_rules_holding,
    grade_allows,
    grade_of,
)
from mql.scoring.conditions import as_text, is_missing
from mql.scoring.events import (
    Event,
    history,
    require_attributes,
    require_aware,
    require_event,
)
from mql.scoring.results import Score
from mql.scoring.state import LeadState
from mql.scoring.until import lapse_instant, total_at

logger = logging.getLogger(__name__)


def new_state(model: Model, attributes: Mapping[str, Any]) -> LeadState:
    """The state of a lead with these attributes and no activity yet.

    >>> from mql.model import parse_model
    >>> m = parse_model('''
    ... name: t
    ... threshold: 50
    ... fit: [{id: vp, when: {title: {contains: vp}}, points: 20}]
    ... ''')
    >>> new_state(m, {"title": "VP Finance"}).fit
    20.0
    """
    require_attributes(attributes, "new_state")
    zeros = MappingProxyType({g.id: 0.0 for g in model.groups})
    return with_attributes(model, LeadState(positive=zeros, negative=zeros), attributes)


def with_attributes(
    model: Model, state: LeadState, attributes: Mapping[str, Any]
) -> LeadState:
    """The state with fit, fit rules and disqualifier recomputed from attributes.

    ``attributes`` is the lead's complete current set, not a change: a field left
    out counts as missing, so the rules that read it stop holding. Merge a change
    into the stored attributes first (``{**stored, **changed}``).
    """
    require_attributes(attributes, "with_attributes")
    holding = fit_rules_holding(model, attributes)
    points = {r.id: r.points for r in model.fit}
    rule = disqualifier_of(model, attributes)
    return replace(
        state,
        fit=math.fsum(points[rule_id] for rule_id in holding),
        fit_rules=tuple(holding),
        disqualifier=rule.id if rule is not None else None,
        disqualified_reason=rule.reason if rule is not None else None,
    )


@dataclass(frozen=True)
class Fired:
    """One intent rule that gave points for one event."""

    rule: IntentRule
    event: Event


def apply_event(model: Model, state: LeadState, event: Event) -> LeadState:
    """The state after one more event, in O(groups).

    An event that matches no intent rule changes nothing. An activity older than
    the last one (in (at, id) order) raises LateEventError: replay the lead. The
    newest event sent twice counts once.
    """
    return step(compiled(model), state, require_event(event, "apply_event"))[0]


def step(
    prepared: Compiled, state: LeadState, event: Event
) -> tuple[LeadState, list[Fired]]:
    """apply_event, also saying which rules fired (for explanations)."""
    rules = prepared.matching(event)
    if not rules:
        return state, []
    last = state.last_activity
    if last is not None:
        newest = (last, state.last_event_id or "")
        if event.key == newest:
            return state, []
        if event.key < newest:
            raise LateEventError(
                f"event {event.id!r} at {event.at.isoformat()} is older than the "
                f"lead's last activity {state.last_event_id!r} at "
                f"{last.isoformat()}; replay the lead's history with replay()",
                event.id,
                event.at,
                last,
            )
    repeats = _Repeats(state)
    fired = [Fired(rule, event) for rule in rules if repeats.fires(rule, event)]
    span = (event.at - last).total_seconds() if last is not None else 0.0
    positive = {
        g.id: _decayed(state.positive.get(g.id, 0.0), g.factor, span)
        for g in prepared.groups
    }
    negative = dict(state.negative)
    for item in fired:
        points, group = item.rule.points, item.rule.group
        if points > 0:
            positive[group] += points
        elif points < 0:
            negative[group] = negative.get(group, 0.0) + points
    new = replace(
        state,
        positive=MappingProxyType(positive),
        negative=MappingProxyType(negative),
        last_activity=event.at,
        last_event_id=event.id,
        fired_once=repeats.once,
        once_per=repeats.once_per,
        match_counts=repeats.counts,
        activities=state.activities + 1,
    )
    return new, fired


def replay(
    model: Model, attributes: Mapping[str, Any], events: Iterable[Event]
) -> LeadState:
    """The state from a whole history: one event per id, taken in (at, id) order."""
    prepared = compiled(model)
    state = new_state(model, require_attributes(attributes, "replay"))
    ordered = history(events, caller="replay", properties=prepared.properties)
    for event in ordered:
        state = step(prepared, state, event)[0]
    logger.debug(
        "replayed %d events, %d of them activity", len(ordered), state.activities
    )
    return state


def read(model: Model, state: LeadState, at: datetime) -> Score:
    """The score of a lead state at ``at`` (at or after its last activity)."""
    require_aware(at, "read: at")
    last = state.last_activity
    if last is not None and at < last:
        raise ScoringError(
            f"cannot read the score at {at.isoformat()}: the state already holds "
            f"activity up to {last.isoformat()}; use score() with the history"
        )
    prepared = compiled(model)
    span = (at - last).total_seconds() if last is not None else 0.0
    groups, total = total_at(prepared, state, span)
    return score_at(prepared, state, state.fit, groups, total, at)


def score_at(
    prepared: Compiled,
    state: LeadState,
    fit: float,
    groups: dict[str, float],
    total: float,
    at: datetime,
) -> Score:
    """The Score of a state at ``at`` from its fit, group totals and total:
    grade, MQL decision and when that decision lapses."""
    model = prepared.model
    grade = grade_of(model, state.fit)
    mql = is_mql(model, state, grade, total)
    return Score(
        score=total,
        fit=fit,
        intent=math.fsum(groups.values()),
        grade=grade,
        mql=mql,
        disqualified_reason=state.disqualified_reason,
        mql_until=lapse_instant(prepared, state, at) if mql else None,
        groups=MappingProxyType(groups),
        last_activity=state.last_activity,
        at=at,
    )


def mql_until(model: Model, state: LeadState, at: datetime) -> datetime | None:
    """When the MQL lapses if nothing else happens (None: not an MQL, or never)."""
    require_aware(at, "mql_until: at")
    return read(model, state, at).mql_until


def is_mql(model: Model, state: LeadState, grade: str, total: float) -> bool:
    """The MQL decision: not disqualified, at the threshold, grade allowed."""
    return (
        state.disqualifier is None
        and total >= model.threshold
        and grade_allows(model, grade)
    )


def _decayed(value: float, factor: Callable[[float], float], span: float) -> float:
    return value * factor(span) if value else 0.0


class _Repeats:
    """The repeat-mode counters of a state, copied only when they change."""

    def __init__(self, state: LeadState) -> None:
        self.once = state.fired_once
        self.once_per = state.once_per
        self.counts = state.match_counts

    def fires(self, rule: IntentRule, event: Event) -> bool:
        """Whether this match gives points, updating the counters."""
        repeat = rule.repeat
        if repeat.mode == "every":
            return True
        if repeat.mode == "once":
            if rule.id in self.once:
                return False
            self.once = self.once | {rule.id}
            return True
        if repeat.mode == "once_per":
            assert repeat.key is not None
            return self._first_of_value(rule.id, event.properties.get(repeat.key))
        assert repeat.count is not None
        return self._nth(rule.id, repeat.count)

    def _first_of_value(self, rule_id: str, value: Any) -> bool:
        if is_missing(value):
            return False
        text = as_text(value)
        seen = self.once_per.get(rule_id, frozenset())
        if text in seen:
            return False
        self.once_per = MappingProxyType({**self.once_per, rule_id: seen | {text}})
        return True

    def _nth(self, rule_id: str, count: int) -> bool:
        done = self.counts.get(rule_id, 0)
        if done >= count:
            # Counting stops once the rule has fired, so the state stays small.
            return False
        self.counts = MappingProxyType({**self.counts, rule_id: done + 1})
        return done + 1 == count
