"""The scoring model: what a model file may say, validated in one place.

A model is plain data. The scoring engine (``mql.scoring``) and the batch engine
(``mql.batch``) read it; nothing here scores. See docs/model.md for every field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    field_validator,
    model_validator,
)

#: 25% per quarter is the default decay; a quarter is a quarter of 365.25 days.
DEFAULT_DECAY_RATE = 0.25
DEFAULT_DECAY_PERIOD_DAYS = 365.25 / 4

GRADES = ("A", "B", "C", "D")

Scalar = str | int | float | bool
#: Numbers in a model are numbers: a quoted ``'60'`` is text and is refused, as is
#: ``true`` (pydantic would otherwise read both as numbers without a word).
Number = Annotated[float, Strict()]
Whole = Annotated[int, Strict()]
RuleId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=80)
]


class LocatedError(ValueError):
    """A validation error that knows the path of the offending key in the file.

    ``path`` is relative to the object being validated (the model, a group, ...).
    """

    def __init__(self, message: str, path: tuple[str | int, ...]):
        super().__init__(message)
        self.path = path


class _Strict(BaseModel):
    # allow_inf_nan: a NaN in points or a bound would turn scores into NaN silently.
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False
    )


class Condition(_Strict):
    """One test on one value. Exactly one kind: equals, in, range, contains, regex,
    glob or present. A bare scalar in YAML means ``equals``, a bare list ``in``.
    With ``not`` the condition holds on a present value that fails the test."""

    equals: Scalar | None = None
    in_: tuple[Scalar, ...] | None = Field(default=None, alias="in")
    min: Number | None = None
    max: Number | None = None
    contains: str | None = None
    regex: str | None = None
    glob: str | None = None
    present: bool | None = None
    case_sensitive: bool = False
    not_: bool = Field(default=False, alias="not")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            return {"in": list(data)}
        if isinstance(data, str | int | float | bool):
            return {"equals": data}
        return data

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [
            k
            for k in ("equals", "in_", "contains", "regex", "glob", "present")
            if getattr(self, k) is not None
        ]
        if self.min is not None or self.max is not None:
            kinds.append("range")
        if len(kinds) != 1:
            got = ", ".join(kinds) or "none"
            raise ValueError(
                "a condition needs exactly one of equals, in, min/max, contains, "
                f"regex, glob, present; got {got}. Use one condition per field."
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise LocatedError(
                f"min {self.min} is above max {self.max}; swap them", ("min",)
            )
        if self.not_ and self.present is not None:
            raise LocatedError(
                "`not` cannot turn round `present`; write present: false (or "
                "true) instead",
                ("not",),
            )
        if self.regex is not None:
            outside = _CHARACTER_CLASS.sub("", self.regex)
            if (found := _UNPORTABLE.search(outside)) is not None:
                back = found.group(0).startswith("\\")
                hint = (
                    "repeat the text the group matched instead"
                    if back
                    else "for a negative test write the positive pattern and add "
                    "`not: true` beside it"
                )
                raise LocatedError(
                    f"regex {self.regex!r} uses {found.group(0)!r} "
                    f"({'a back-reference' if back else 'look-around'}), which the "
                    f"batch engine on DuckDB cannot run; {hint}",
                    ("regex",),
                )
            try:
                re.compile(self.regex)
            except re.error as exc:
                raise LocatedError(
                    f"regex {self.regex!r} does not compile: {exc}. "
                    "Escape special characters such as . ( [ with a backslash.",
                    ("regex",),
                ) from exc
        if self.glob is not None and (bad := unclosed_bracket(self.glob)) is not None:
            raise LocatedError(
                f"glob {self.glob!r} opens a character class at position {bad} "
                "with '[' but never closes it with ']', so the '[' would be matched "
                "as a plain character; close the class (e.g. '[abc]') or write a "
                "literal '[' as '[[]'",
                ("glob",),
            )
        return self

    @property
    def kind(self) -> str:
        """The condition's kind: equals, in, range, contains, regex, glob or present."""
        if self.min is not None or self.max is not None:
            return "range"
        for name in ("equals", "contains", "regex", "glob", "present"):
            if getattr(self, name) is not None:
                return name
        return "in"


Conditions = dict[str, Condition]

#: Regular-expression syntax that RE2 (DuckDB) lacks: look-around and numbered
#: back-references (an escaped backslash before them is left alone).
_UNPORTABLE = re.compile(r"\(\?<?[=!]|(?<!\\)\\[1-9]")
#: A character class, where ( ? ! and digits are plain characters.
_CHARACTER_CLASS = re.compile(r"\[\^?\]?(?:\\.|[^\]\\])*\]")


def unclosed_bracket(pattern: str) -> int | None:
    """The position of a '[' that opens a shell-pattern class never closed, or None.

    Follows ``fnmatch``: a ']' right after '[' or '[!' belongs to the class.

    >>> unclosed_bracket("[abc"), unclosed_bracket("*[abc]*"), unclosed_bracket("[]]")
    (0, None, None)
    """
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                return i
            i = j
        i += 1
    return None


class Decay(_Strict):
    """Loss of intent with the lead's inactivity: ``rate`` per ``period_days``, after
    ``grace_days`` without activity. Rate 0 turns decay off."""

    rate: Number = Field(default=DEFAULT_DECAY_RATE, ge=0.0, lt=1.0)
    period_days: Number = Field(default=DEFAULT_DECAY_PERIOD_DAYS, gt=0.0)
    grace_days: Number = Field(default=0.0, ge=0.0)

    def over(self, base: Decay) -> Decay:
        """This decay with the fields it leaves out taken from ``base``.

        >>> Decay(rate=0.1).over(Decay(grace_days=14)).grace_days
        14.0
        """
        given = {name: getattr(self, name) for name in self.model_fields_set}
        return base.model_copy(update=given)


class Group(_Strict):
    """Intent rules whose points add up under one cap (and floor)."""

    id: RuleId
    label: str | None = None
    cap: Number | None = None
    floor: Number | None = None
    decay: Decay | None = None

    @model_validator(mode="after")
    def _no_points_without_events(self) -> Group:
        # With cap >= 0 >= floor, cap >= floor always holds.
        if self.floor is not None and self.floor > 0:
            raise LocatedError(
                f"floor {self.floor:g} is above 0: it would give every lead "
                f"{self.floor:g} points in group {self.id!r} with no event at all; "
                "a floor only limits penalties, so give 0 or a negative number "
                "(e.g. floor: -30), or leave it out",
                ("floor",),
            )
        if self.cap is not None and self.cap < 0:
            raise LocatedError(
                f"cap {self.cap:g} is below 0: it would take {-self.cap:g} points "
                f"from every lead in group {self.id!r} with no event at all; a cap "
                "only limits positive points, so give 0 or more (e.g. cap: 30), "
                "or leave it out",
                ("cap",),
            )
        return self


class Repeat(_Strict):
    """How often an intent rule counts for one lead.

    ``every`` match; ``once`` per lead; ``once_per`` distinct value of a property;
    ``min_count``: once, when the N-th match arrives.
    """

    mode: Literal["every", "once", "once_per", "min_count"]
    key: str | None = None
    count: Whole | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            if data in ("every", "once"):
                return {"mode": data}
            raise ValueError(
                f"repeat {data!r} is not a mode; use every, once, "
                "{once_per: PROPERTY} or {min_count: N}"
            )
        if isinstance(data, dict) and "mode" not in data and len(data) == 1:
            ((name, value),) = data.items()
            if name == "once_per":
                return {"mode": "once_per", "key": value}
            if name == "min_count":
                return {"mode": "min_count", "count": value}
        if isinstance(data, dict) and "mode" not in data:
            got = ", ".join(str(key) for key in data) or "nothing"
            raise ValueError(
                f"a repeat mapping takes one key, once_per or min_count; got {got}. "
                "Use every, once, {once_per: PROPERTY} or {min_count: N}"
            )
        return data

    @model_validator(mode="after")
    def _complete(self) -> Repeat:
        if self.mode == "once_per" and not self.key:
            raise ValueError("once_per needs the property name, e.g. {once_per: asset}")
        if self.mode == "min_count" and self.count is None:
            raise ValueError("min_count needs a number, e.g. {min_count: 3}")
        return self


class RuleBase(_Strict):
    """What every rule has: an id unique in the model and an optional label."""

    id: RuleId
    label: str | None = None


class AttributeRule(RuleBase):
    """A rule on attributes: every condition in ``when`` must hold."""

    when: Conditions = Field(min_length=1)


class FitRule(AttributeRule):
    """Points for lead and account attributes; all conditions in ``when`` must hold."""

    points: Number


class IntentRule(RuleBase):
    """Points for an event of one of the listed types whose properties match."""

    event: tuple[str, ...] = Field(min_length=1)
    where: Conditions = Field(default_factory=dict)
    points: Number
    group: RuleId
    repeat: Repeat

    @field_validator("event", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("event")
    @classmethod
    def _each_type_once(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A repeated type would make one event match the rule twice in some engines.
        repeated = sorted({t for t in value if value.count(t) > 1})
        if repeated:
            raise ValueError(
                f"event types {repeated} are listed more than once; list each type once"
            )
        return value


class Disqualifier(AttributeRule):
    """Keeps a lead from MQL whatever its points, with the reason shown."""

    reason: str = Field(min_length=1)


class Grades(_Strict):
    """Minimum fit points for grades A, B and C; below C is D."""

    A: Number = 40.0
    B: Number = 25.0
    C: Number = 10.0

    @model_validator(mode="after")
    def _ordered(self) -> Grades:
        if not self.A >= self.B >= self.C:
            raise ValueError(
                f"grade bands must satisfy A >= B >= C; got A={self.A}, "
                f"B={self.B}, C={self.C}"
            )
        return self


class AccountRollup(_Strict):
    """How an account's score is made from its leads' scores."""

    method: Literal["top_n", "max"] = "top_n"
    top_n: Whole = Field(default=3, ge=1)
    engaged_min_intent: Number = Field(default=0.0, ge=0.0)


class Model(_Strict):
    """A complete scoring model."""

    name: str
    description: str | None = None
    version: Whole = 1
    threshold: Number
    min_grade: Literal["A", "B", "C", "D"] | None = None
    grades: Grades = Field(default_factory=Grades)
    decay: Decay = Field(default_factory=Decay)
    groups: tuple[Group, ...] = ()
    total_cap: Number | None = None
    fit: tuple[FitRule, ...] = ()
    intent: tuple[IntentRule, ...] = ()
    disqualifiers: tuple[Disqualifier, ...] = ()
    account: AccountRollup = Field(default_factory=AccountRollup)

    @model_validator(mode="after")
    def _reachable(self) -> Model:
        if self.threshold <= 0:
            raise LocatedError(
                f"threshold {self.threshold:g} is not above 0: every lead with no "
                "fit and no activity would be an MQL; give the score at which a "
                "lead is worth a salesperson's call, e.g. threshold: 60",
                ("threshold",),
            )
        if self.total_cap is not None and self.total_cap < self.threshold:
            raise LocatedError(
                f"total_cap {self.total_cap:g} is below the threshold "
                f"{self.threshold:g}: no lead could ever be an MQL; raise total_cap "
                f"to at least {self.threshold:g}, lower the threshold, or leave "
                "total_cap out",
                ("total_cap",),
            )
        return self

    @model_validator(mode="after")
    def _references(self) -> Model:
        first: dict[str, str] = {}
        sections: list[tuple[str, list[str]]] = [
            ("fit", [r.id for r in self.fit]),
            ("intent", [r.id for r in self.intent]),
            ("disqualifiers", [d.id for d in self.disqualifiers]),
        ]
        for section, ids in sections:
            for index, rule_id in enumerate(ids):
                where = f"{section}[{index}]"
                if rule_id in first:
                    raise LocatedError(
                        f"rule id {rule_id!r} is used twice ({first[rule_id]} and "
                        f"{where}); every fit, intent and disqualifier rule needs "
                        "its own id: rename one",
                        (section, index, "id"),
                    )
                first[rule_id] = where
        group_ids = [g.id for g in self.groups]
        for index, group_id in enumerate(group_ids):
            if group_id in group_ids[:index]:
                raise LocatedError(
                    f"group id {group_id!r} is declared twice; keep one",
                    ("groups", index, "id"),
                )
        for index, rule in enumerate(self.intent):
            if rule.group not in group_ids:
                raise LocatedError(
                    f"intent rule {rule.id!r} uses the undeclared group "
                    f"{rule.group!r}; declare it under groups: (known: "
                    f"{', '.join(group_ids) or 'none'})",
                    ("intent", index, "group"),
                )
        return self

    def group(self, group_id: str) -> Group:
        """The group with this id."""
        for group in self.groups:
            if group.id == group_id:
                return group
        raise KeyError(group_id)

    def decay_of(self, group_id: str) -> Decay:
        """The decay that applies to a group, field by field: what the group's own
        ``decay`` gives, and the model's ``decay`` for every field it leaves out.

        >>> m = Model(name="t", threshold=50, decay=Decay(grace_days=14),
        ...           groups=(Group(id="r", decay=Decay(rate=0.1)),))
        >>> m.decay_of("r").rate, m.decay_of("r").grace_days
        (0.1, 14.0)
        """
        own = self.group(group_id).decay
        return own.over(self.decay) if own is not None else self.decay
