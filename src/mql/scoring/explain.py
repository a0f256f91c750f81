"""The full-history reference path: every contribution listed, summed exactly.

``explain`` walks a lead's history once and lists one entry per contribution; the
score is ``math.fsum`` of the entries, so the entries add up to it by construction.
``score`` is the same path without the list. The incremental path (``read`` of a
state) agrees with it to float precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from mql.model.schema import Model
from mql.scoring.compiled import Compiled, GroupSpec, compiled
from mql.scoring.engine import Fired, new_state, score_at, step
from mql.scoring.events import Event, history, require_attributes, require_aware
from mql.scoring.results import Score
from mql.scoring.state import LeadState

EntryKind = Literal["fit", "intent", "cap", "floor", "total_cap", "disqualifier"]


@dataclass(frozen=True)
class Entry:
    """One contribution to a score.

    ``points`` are the raw points, ``factor`` the decay kept at the instant asked
    about, ``value`` what the entry adds to the score (cap and total-cap entries
    are negative: what the cap took away; floor entries positive). ``label`` is
    the rule's (or, for cap and floor entries, the group's) ``label`` from the
    model file, for people; None when the file gives none.
    """

    kind: EntryKind
    rule: str | None
    event_id: str | None
    event_at: datetime | None
    group: str | None
    points: float
    factor: float
    value: float
    note: str | None = None
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The entry as plain JSON types."""
        at = self.event_at
        return {
            "kind": self.kind,
            "rule": self.rule,
            "event_id": self.event_id,
            "event_at": at.isoformat() if at is not None else None,
            "group": self.group,
            "points": self.points,
            "factor": self.factor,
            "value": self.value,
            "note": self.note,
            "label": self.label,
        }


@dataclass(frozen=True)
class Explanation:
    """Why a lead has its score: the entries, their exact sum and the score."""

    entries: tuple[Entry, ...]
    total: float
    score: Score
    state: LeadState

    def to_dict(self) -> dict[str, Any]:
        """The explanation as plain JSON types."""
        return {
            "total": self.total,
            "score": self.score.to_dict(),
            "entries": [e.to_dict() for e in self.entries],
        }


def score(
    model: Model, attributes: Mapping[str, Any], events: Iterable[Event], at: datetime
) -> Score:
    """The score at ``at`` from the whole history (events after ``at`` ignored)."""
    return _explain(model, attributes, events, at, "score").score


def explain(
    model: Model, attributes: Mapping[str, Any], events: Iterable[Event], at: datetime
) -> Explanation:
    """Every contribution to the score at ``at``, adding up to it exactly."""
    return _explain(model, attributes, events, at, "explain")


def _explain(
    model: Model,
    attributes: Mapping[str, Any],
    events: Iterable[Event],
    at: datetime,
    caller: str,
) -> Explanation:
    """explain, with errors naming the public function that was called."""
    require_aware(at, f"{caller}: at")
    require_attributes(attributes, caller)
    prepared = compiled(model)
    ordered = history(events, at, caller, prepared.properties)
    state, fired, activities = _walk(prepared, attributes, ordered)
    entries = _fit_entries(model, state)
    intent = _intent_entries(prepared, fired, activities, at)
    clamped: dict[str, float] = {}
    for group in prepared.groups:
        own = [e for e in intent if e.group == group.id]
        entries.extend(own)
        label = model.group(group.id).label
        clamped[group.id] = _clamp_entry(group, own, entries, label)
    entries.extend(_total_cap_entry(model, entries))
    if state.disqualified_reason is not None:
        entries.append(_disqualifier_entry(model, state))
    total = math.fsum(e.value for e in entries)
    return Explanation(
        entries=tuple(entries),
        total=total,
        score=_score_of(prepared, state, entries, clamped, total, at),
        state=state,
    )


def _walk(
    prepared: Compiled, attributes: Mapping[str, Any], events: list[Event]
) -> tuple[LeadState, list[tuple[Fired, int]], list[datetime]]:
    """The state, each fired rule with its activity's index, and activity times."""
    state = new_state(prepared.model, attributes)
    fired: list[tuple[Fired, int]] = []
    activities: list[datetime] = []
    for event in events:
        before = state.activities
        state, now = step(prepared, state, event)
        if state.activities != before:
            activities.append(event.at)
            fired.extend((item, len(activities) - 1) for item in now)
    return state, fired, activities


def _fit_entries(model: Model, state: LeadState) -> list[Entry]:
    rules = {r.id: r for r in model.fit}
    return [
        Entry(
            "fit",
            rule_id,
            None,
            None,
            None,
            rules[rule_id].points,
            1.0,
            rules[rule_id].points,
            label=rules[rule_id].label,
        )
        for rule_id in state.fit_rules
    ]


def _intent_entries(
    prepared: Compiled,
    fired: list[tuple[Fired, int]],
    activities: list[datetime],
    at: datetime,
) -> list[Entry]:
    suffixes: dict[float, list[float]] = {}
    entries = []
    for item, index in fired:
        group = prepared.by_id[item.rule.group]
        points = item.rule.points
        # Penalties do not decay (docs/scoring.md), so their factor is 1.
        factor = _factor(group, index, activities, at, suffixes) if points > 0 else 1.0
        entries.append(
            Entry(
                "intent",
                item.rule.id,
                item.event.id,
                item.event.at,
                group.id,
                points,
                factor,
                points * factor,
                label=item.rule.label,
            )
        )
    return entries


def _factor(
    group: GroupSpec,
    index: int,
    activities: list[datetime],
    at: datetime,
    suffixes: dict[float, list[float]],
) -> float:
    """Decay kept from activity ``index`` to ``at`` under the lead's own clock."""
    if not group.decays:
        return 1.0
    if group.grace == 0.0:
        return group.factor((at - activities[index]).total_seconds())
    if group.grace not in suffixes:
        suffixes[group.grace] = _effective_suffixes(group, activities, at)
    effective = suffixes[group.grace][index]
    return float(group.base ** (effective / group.period)) if effective > 0 else 1.0


def _effective_suffixes(
    group: GroupSpec, activities: list[datetime], at: datetime
) -> list[float]:
    """For each activity, the decaying seconds (grace removed per gap) up to ``at``."""
    out = [0.0] * len(activities)
    running = max(0.0, (at - activities[-1]).total_seconds() - group.grace)
    for k in range(len(activities) - 1, -1, -1):
        out[k] = running
        if k > 0:
            gap = (activities[k] - activities[k - 1]).total_seconds()
            running += max(0.0, gap - group.grace)
    return out


def _clamp_entry(
    group: GroupSpec, own: list[Entry], entries: list[Entry], label: str | None
) -> float:
    """Add the cap or floor entry of a group if one binds; return its clamped value."""
    raw = math.fsum(e.value for e in own)
    value = group.clamp(raw)
    if value != raw:
        kind: EntryKind = "cap" if value < raw else "floor"
        limit = group.cap if kind == "cap" else group.floor
        entries.append(
            Entry(
                kind,
                None,
                None,
                None,
                group.id,
                0.0,
                1.0,
                value - raw,
                f"group {group.id} {kind} {limit:g} applied to {raw:.6g}",
                label,
            )
        )
    return value


def _total_cap_entry(model: Model, entries: list[Entry]) -> list[Entry]:
    cap = model.total_cap
    total = math.fsum(e.value for e in entries)
    if cap is None or total <= cap:
        return []
    note = f"total cap {cap:g} applied to {total:.6g}"
    return [Entry("total_cap", None, None, None, None, 0.0, 1.0, cap - total, note)]


def _disqualifier_entry(model: Model, state: LeadState) -> Entry:
    labels = {d.id: d.label for d in model.disqualifiers}
    return Entry(
        "disqualifier",
        state.disqualifier,
        None,
        None,
        None,
        0.0,
        1.0,
        0.0,
        f"disqualified: {state.disqualified_reason}",
        labels.get(state.disqualifier or ""),
    )


def _score_of(
    prepared: Compiled,
    state: LeadState,
    entries: list[Entry],
    clamped: dict[str, float],
    total: float,
    at: datetime,
) -> Score:
    fit = math.fsum(e.value for e in entries if e.kind == "fit")
    return score_at(prepared, state, fit, clamped, total, at)
