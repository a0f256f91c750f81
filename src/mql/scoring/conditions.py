"""Conditions on one value: equals, in, range, contains, regex, glob, present.

The rules are those of docs/scoring.md ("Conditions"): text compares without case
unless ``case_sensitive``, numbers compare as numbers, and a missing value (absent,
null, empty or blank text) fails every condition but ``present: false``.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from mql.model.schema import Condition, Scalar

#: Compiled patterns kept per (pattern, flags); a model has a few dozen at most.
_PATTERN_CACHE_SIZE = 1024


def is_missing(value: Any) -> bool:
    """True for an absent value: None, or text that is empty once trimmed."""
    if value is None:
        return True
    return isinstance(value, str) and not value.strip()


def as_number(value: Any) -> float | None:
    """The value read as a finite number, or None (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def as_text(value: Any, case_sensitive: bool = False) -> str:
    """The value as trimmed text, lower-cased unless ``case_sensitive``."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value).strip()
    return text if case_sensitive else text.casefold()


def matches(condition: Condition, value: Any) -> bool:
    """Whether one value satisfies one condition.

    >>> from mql.model import Condition
    >>> matches(Condition(equals=200), "200")
    True
    >>> matches(Condition.model_validate({"glob": "*/pricing*"}), "/Pricing/tax")
    True
    >>> matches(Condition(present=False), "")
    True
    >>> matches(Condition.model_validate({"in": ["US", "USA"], "not": True}), "CA")
    True
    """
    kind = condition.kind
    if kind == "present":
        return (not is_missing(value)) is condition.present
    if is_missing(value):
        return False
    return _test(condition, value) is not condition.not_


def _test(condition: Condition, value: Any) -> bool:
    """The condition's test on a present value (before ``not``)."""
    kind = condition.kind
    cs = condition.case_sensitive
    if kind == "equals":
        assert condition.equals is not None
        return _equals(condition.equals, value, cs)
    if kind == "in":
        assert condition.in_ is not None
        return any(_equals(option, value, cs) for option in condition.in_)
    if kind == "range":
        return _in_range(condition, value)
    if kind == "contains":
        assert condition.contains is not None
        return as_text(condition.contains, cs) in as_text(value, cs)
    if kind == "regex":
        assert condition.regex is not None
        return _pattern(condition.regex, cs).search(as_text(value, True)) is not None
    assert condition.glob is not None
    return fnmatch.fnmatchcase(as_text(value, cs), as_text(condition.glob, cs))


def all_match(conditions: Mapping[str, Condition], values: Mapping[str, Any]) -> bool:
    """Whether every named field of ``values`` satisfies its condition."""
    return all(matches(cond, values.get(name)) for name, cond in conditions.items())


def _equals(expected: Scalar, value: Any, case_sensitive: bool) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return as_text(expected) == as_text(value)
    want, got = as_number(expected), as_number(value)
    if want is not None and got is not None:
        return want == got
    return as_text(expected, case_sensitive) == as_text(value, case_sensitive)


def _in_range(condition: Condition, value: Any) -> bool:
    number = as_number(value)
    if number is None:
        return False
    if condition.min is not None and number < condition.min:
        return False
    return condition.max is None or number <= condition.max


@lru_cache(maxsize=_PATTERN_CACHE_SIZE)
def _pattern(regex: str, case_sensitive: bool) -> re.Pattern[str]:
    return re.compile(regex, 0 if case_sensitive else re.IGNORECASE)
