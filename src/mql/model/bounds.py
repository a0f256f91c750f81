"""How high fit can go: an upper bound over every combination of attributes.

A lead with no activity has intent 0 (a group floor is never above 0 and a cap never
below it), so its score is its fit. If the highest fit any attributes can reach stays
below the threshold, no lead is an MQL without activity. ``fit_ceiling`` gives an
upper bound on that highest fit, tight for the usual shapes of rules:

- fit rules on different fields hold independently, so their bounds add up;
- rules on the same single field count together only when both could hold on one
  value: two ranges that do not overlap, or two ``in``/``equals`` lists of text with
  no value in common, never hold together (a value is in one band or the other);
- anything else (regex, contains, glob, rules on several fields) is assumed able to
  hold together with everything, so the bound stays an upper bound.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

from mql.model.schema import Condition, FitRule, Model

#: Above this many positive rules on one field, the exact search over subsets
#: gives way to the plain sum (still an upper bound).
_MAX_EXACT_RULES = 16


def fit_ceiling(model: Model) -> float:
    """An upper bound on the fit any combination of attributes can reach.

    >>> from mql.model import parse_model
    >>> fit_ceiling(parse_model('''
    ... name: t
    ... threshold: 50
    ... fit:
    ...   - {id: small, when: {employees: {max: 49}}, points: 10}
    ...   - {id: mid, when: {employees: {min: 50, max: 499}}, points: 20}
    ...   - {id: cfo, when: {title: {regex: 'cfo'}}, points: 25}
    ...   - {id: ceo, when: {title: {regex: 'ceo'}}, points: 25}
    ... '''))
    70.0
    """
    by_field: dict[str, list[FitRule]] = defaultdict(list)
    alone: list[float] = []
    for rule in model.fit:
        if rule.points <= 0:
            continue  # attributes can always avoid a penalty's field value
        if len(rule.when) == 1:
            by_field[next(iter(rule.when))].append(rule)
        else:
            alone.append(rule.points)
    return math.fsum([*alone, *(_field_ceiling(r) for r in by_field.values())])


def _field_ceiling(rules: list[FitRule]) -> float:
    """The most that positive rules on one field can give together."""
    if len(rules) > _MAX_EXACT_RULES:
        return math.fsum(r.points for r in rules)
    conditions = [next(iter(r.when.values())) for r in rules]
    best = 0.0
    for size in range(1, len(rules) + 1):
        for subset in itertools.combinations(range(len(rules)), size):
            if all(
                _may_hold_together(conditions[a], conditions[b])
                for a, b in itertools.combinations(subset, 2)
            ):
                best = max(best, math.fsum(rules[i].points for i in subset))
    return best


def _may_hold_together(a: Condition, b: Condition) -> bool:
    """False only when no single value can satisfy both conditions."""
    if a.not_ or b.not_:
        return True  # a turned-round test holds on almost any value
    if a.kind == "range" and b.kind == "range":
        low = max(_low(a), _low(b))
        high = min(_high(a), _high(b))
        return low <= high
    texts_a, texts_b = _texts(a), _texts(b)
    if texts_a is not None and texts_b is not None:
        return bool(texts_a & texts_b)
    return True


def _low(c: Condition) -> float:
    return c.min if c.min is not None else -math.inf


def _high(c: Condition) -> float:
    return c.max if c.max is not None else math.inf


def _texts(c: Condition) -> set[str] | None:
    """The values an equals/in condition accepts, when all are plain text.

    Numbers and booleans are left out (``"200"`` equals ``200.0``), as are
    case-sensitive conditions: both are then assumed to overlap with anything.
    """
    options = c.in_ if c.kind == "in" else (c.equals,) if c.kind == "equals" else None
    if options is None or c.case_sensitive:
        return None
    if not all(isinstance(o, str) and not _numeric(o) for o in options):
        return None
    return {str(o).strip().casefold() for o in options}


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
