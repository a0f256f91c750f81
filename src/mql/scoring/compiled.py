"""A model prepared for fast scoring: rules indexed by event type, decay constants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mql.model.schema import GRADES, Decay, Disqualifier, IntentRule, Model
from mql.scoring.conditions import all_match
from mql.scoring.decay import grace_seconds, period_seconds
from mql.scoring.events import Event

#: How many prepared models to keep; a process rarely uses more than a handful.
_CACHE_SIZE = 32


@dataclass(frozen=True)
class GroupSpec:
    """One group with its decay constants in seconds."""

    id: str
    index: int
    cap: float | None
    floor: float | None
    decay: Decay
    base: float
    period: float
    grace: float

    @property
    def decays(self) -> bool:
        """Whether the group's positive value falls with inactivity."""
        return self.base < 1.0

    def factor(self, span: float) -> float:
        """The share kept after ``span`` inactive seconds, as decay_factor."""
        effective = span - self.grace
        if effective <= 0.0 or self.base == 1.0:
            return 1.0
        return float(self.base ** (effective / self.period))

    def clamp(self, value: float) -> float:
        """The value within the group's floor and cap."""
        if self.floor is not None and value < self.floor:
            value = self.floor
        if self.cap is not None and value > self.cap:
            value = self.cap
        return value


@dataclass(frozen=True)
class Compiled:
    """A model with its intent rules indexed by event type."""

    model: Model
    groups: tuple[GroupSpec, ...]
    by_id: Mapping[str, GroupSpec]
    by_type: Mapping[str, tuple[IntentRule, ...]]
    properties: tuple[str, ...]

    def matching(self, event: Event) -> list[IntentRule]:
        """The intent rules an event matches, in model order."""
        rules = self.by_type.get(event.type)
        if not rules:
            return []
        return [r for r in rules if all_match(r.where, event.properties)]


_CACHE: dict[int, Compiled] = {}


def compiled(model: Model) -> Compiled:
    """The prepared form of a model (cached per model object)."""
    hit = _CACHE.get(id(model))
    if hit is not None and hit.model is model:
        return hit
    prepared = _compile(model)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(model)] = prepared
    return prepared


def _compile(model: Model) -> Compiled:
    groups = tuple(
        _group_spec(model, group.id, index) for index, group in enumerate(model.groups)
    )
    by_type: dict[str, list[IntentRule]] = {}
    for rule in model.intent:
        for event_type in rule.event:
            by_type.setdefault(event_type, []).append(rule)
    return Compiled(
        model=model,
        groups=groups,
        by_id={g.id: g for g in groups},
        by_type={k: tuple(v) for k, v in by_type.items()},
        properties=read_properties(model),
    )


def read_properties(model: Model) -> tuple[str, ...]:
    """The event properties a model reads (``where`` fields, ``once_per`` keys),
    sorted by name: what tells copies of one event apart (docs/scoring.md).

    >>> from mql.model import parse_model
    >>> read_properties(parse_model('''
    ... name: t
    ... threshold: 50
    ... groups: [{id: w}]
    ... intent: [{id: a, event: v, where: {url: x}, points: 1, group: w,
    ...           repeat: {once_per: asset}}]
    ... '''))
    ('asset', 'url')
    """
    names = {name for rule in model.intent for name in rule.where}
    names |= {r.repeat.key for r in model.intent if r.repeat.key}
    return tuple(sorted(names))


def _group_spec(model: Model, group_id: str, index: int) -> GroupSpec:
    group = model.group(group_id)
    decay = model.decay_of(group_id)
    return GroupSpec(
        id=group_id,
        index=index,
        cap=group.cap,
        floor=group.floor,
        decay=decay,
        base=1.0 - decay.rate,
        period=period_seconds(decay),
        grace=grace_seconds(decay),
    )


def fit_rules_holding(model: Model, attributes: Mapping[str, Any]) -> list[str]:
    """The ids of the fit rules that hold on the attributes, in model order."""
    return [r.id for r in model.fit if all_match(r.when, attributes)]


def disqualifier_of(model: Model, attributes: Mapping[str, Any]) -> Disqualifier | None:
    """The first disqualifier (in file order) that holds, if any."""
    for rule in model.disqualifiers:
        if all_match(rule.when, attributes):
            return rule
    return None


def grade_of(model: Model, fit: float) -> str:
    """The fit grade: A if fit >= grades.A, else B, C by their bands, else D.

    >>> from mql.model import parse_model
    >>> grade_of(parse_model("name: t\\nthreshold: 50\\n"), 30.0)
    'B'
    """
    bands = model.grades
    for grade, floor in zip(GRADES, (bands.A, bands.B, bands.C), strict=False):
        if fit >= floor:
            return grade
    return GRADES[-1]


def grade_allows(model: Model, grade: str) -> bool:
    """Whether a grade meets the model's ``min_grade`` (A is best)."""
    if model.min_grade is None:
        return True
    return GRADES.index(grade) <= GRADES.index(model.min_grade)
