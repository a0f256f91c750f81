"""Model conditions (equals, in, range, contains, regex, glob, present) as Ibis
boolean expressions over text columns.

Every property and attribute column the engine reads is text (see docs/batch.md,
"Data layout"); numbers are parsed where a condition asks for a number. The
expressions never evaluate to SQL NULL: a missing value gives a plain false.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir

from mql.model.schema import Condition, Scalar

#: Text that reads as a decimal number; guards the cast so that no engine raises.
NUMBER_PATTERN = r"^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$"
#: Characters a glob leaves literal but a regular expression would interpret.
_REGEX_SPECIALS = set(".^$+{}()|\\/")


def present(value: ir.StringValue) -> ir.BooleanValue:
    """True when the value is neither null nor empty once trimmed."""
    return value.notnull() & (value.strip() != "")


def as_number(value: ir.StringValue) -> ir.FloatingValue:
    """The value as a float when it reads as a number, else null (never an error)."""
    trimmed = value.strip()
    return ibis.cases(
        (trimmed.re_search(NUMBER_PATTERN), trimmed.cast("float64")),
        else_=ibis.null("float64"),
    )


def literal_number(value: Scalar) -> float | None:
    """A model value read as a finite number, or None (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def glob_to_regex(pattern: str) -> str:
    """An anchored regular expression that accepts what the shell pattern accepts.

    >>> glob_to_regex("*/pricing?")
    '^.*/pricing.$'
    >>> glob_to_regex("[!a-c]x.y")
    '^[^a-c]x\\\\.y$'
    """
    out: list[str] = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            j = pattern.find("]", i + 1 if i < n and pattern[i] in "!]" else i)
            if j < 0:
                out.append("\\[")
                continue
            body = pattern[i:j].replace("\\", "\\\\")
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
            i = j + 1
        elif ch in _REGEX_SPECIALS or ch in "[]":
            out.append("\\" + ch)
        else:
            out.append(ch)
    out.append("$")
    return "".join(out)


def _text(value: ir.StringValue, case_sensitive: bool) -> ir.StringValue:
    trimmed = value.strip()
    return trimmed if case_sensitive else trimmed.lower()


def _literal_text(expected: Scalar, case_sensitive: bool) -> str:
    if isinstance(expected, bool):
        return "true" if expected else "false"
    text = str(expected).strip()
    return text if case_sensitive else text.lower()


def _equals(
    value: ir.StringValue, expected: Scalar, cond: Condition
) -> ir.BooleanValue:
    """Numbers compare as numbers, booleans as text without case, the rest as text."""
    if isinstance(expected, bool):
        return _text(value, False) == _literal_text(expected, False)
    text = _text(value, cond.case_sensitive) == _literal_text(
        expected, cond.case_sensitive
    )
    number = literal_number(expected)
    if number is None:
        return text
    got = as_number(value)
    return ibis.ifelse(got.notnull(), got == number, text)


def _holds(value: ir.StringValue, cond: Condition) -> ir.BooleanValue:
    kind = cond.kind
    if kind == "equals":
        assert cond.equals is not None
        return _equals(value, cond.equals, cond)
    if kind == "in":
        assert cond.in_ is not None
        tests = [_equals(value, item, cond) for item in cond.in_]
        return ibis.or_(*tests) if tests else ibis.literal(False)
    if kind == "range":
        number = as_number(value)
        test: ir.BooleanValue = number.notnull()
        if cond.min is not None:
            test &= number >= cond.min
        if cond.max is not None:
            test &= number <= cond.max
        return test
    if kind == "contains":
        assert cond.contains is not None
        cs = cond.case_sensitive
        return _text(value, cs).contains(_literal_text(cond.contains, cs))
    if kind == "regex":
        assert cond.regex is not None
        flags = "" if cond.case_sensitive else "(?i)"
        return _text(value, True).re_search(flags + cond.regex)
    assert cond.glob is not None
    pattern = glob_to_regex(_literal_text(cond.glob, cond.case_sensitive))
    # (?s): a glob's * and ? also match line breaks.
    return _text(value, cond.case_sensitive).re_search("(?s)" + pattern)


def condition(value: ir.StringValue, cond: Condition) -> ir.BooleanValue:
    """The condition on one text value; false (not null) when the value is missing."""
    if cond.kind == "present":
        has = present(value)
        return has if cond.present else ~has
    return (present(value) & _holds(value, cond)).fill_null(False)


def conditions(
    table: ir.Table, conds: dict[str, Condition], columns: dict[str, str]
) -> ir.BooleanValue:
    """All conditions of a ``when``/``where`` mapping; ``columns`` maps field to column.

    A field the table has no column for reads as missing.
    """
    tests: list[ir.BooleanValue] = []
    for field, cond in conds.items():
        column = columns.get(field)
        value = (
            table[column].cast("string")
            if column is not None
            else ibis.literal(None, type="string")
        )
        tests.append(condition(value, cond))
    return ibis.and_(*tests) if tests else ibis.literal(True)
