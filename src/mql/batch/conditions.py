"""Model conditions (equals, in, range, contains, regex, glob, present) as Ibis
boolean expressions over text columns.

Every property and attribute column the engine reads is text (see docs/batch.md,
"Data layout"); numbers are parsed where a condition asks for a number. The
expressions never evaluate to SQL NULL: a missing value gives a plain false.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
from ibis.common.exceptions import IbisError

from mql.model.schema import Condition, Scalar

#: Text that reads as a decimal number; guards the cast so that no engine raises.
NUMBER_PATTERN = r"^[-+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$"
#: Python's word-boundary escapes in PostgreSQL's regular expressions.
_POSTGRES_ESCAPES = {"\\b": "\\y", "\\B": "\\Y"}
#: Globs with these characters need a regular expression; the rest become LIKE.
_LIKE_UNSAFE = set("[]%_\\")
#: Characters a glob leaves literal but a regular expression would interpret.
_REGEX_SPECIALS = set(".^$+{}()|\\")
#: The ASCII whitespace that TRIM removes (space, tab, line breaks, vertical tab,
#: form feed), written as regular-expression escapes.
_BLANKS = r"[ \t\n\r\x0B\f]+"
#: Whitespace at either end of a text.
_EDGE_BLANKS = f"^{_BLANKS}|{_BLANKS}$"


def trim(value: ir.StringValue, dialect: str) -> ir.StringValue:
    """The text without the ASCII whitespace at either end.

    On Spark, Ibis passes TRIM its characters in a literal whose ``\\v`` and
    ``\\f`` Spark reads as the letters v and f (so ``" vp "`` became ``"p"``):
    a regular expression does it there.
    """
    if dialect != "pyspark":
        return value.strip()
    return value.re_replace(_EDGE_BLANKS, "")


def as_number(trimmed: ir.StringValue) -> ir.FloatingValue:
    """The trimmed value as a float when it reads as a number, else null (never an
    error)."""
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


#: A regular expression no text matches (a start anchor after a character).
NEVER = "x^"


def _escape(ch: str) -> str:
    return "\\" + ch if ch in _REGEX_SPECIALS or ch in "[]^-*?" else ch


def _bracket(pattern: str, start: int) -> tuple[str | None, int]:
    """The class for ``[...]`` opening at ``start`` - 1, and where it ends.

    None when the bracket does not close (then it is a literal ``[``). Ranges
    written backwards match nothing, as in :mod:`fnmatch`.
    """
    j = start
    if j < len(pattern) and pattern[j] == "!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    close = pattern.find("]", j)
    if close < 0:
        return None, start
    body = pattern[start:close]
    negate = body.startswith("!")
    body = body[1:] if negate else body
    items: list[str] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            low, high = body[k], body[k + 2]
            if low <= high:
                items.append(f"{_escape(low)}-{_escape(high)}")
            k += 3
        else:
            items.append(_escape(body[k]))
            k += 1
    if not items:
        return ("." if negate else NEVER), close + 1
    return ("[^" if negate else "[") + "".join(items) + "]", close + 1


def glob_to_regex(pattern: str) -> str:
    """An anchored regular expression that accepts what the shell pattern accepts.

    >>> glob_to_regex("*/pricing?")
    '^.*/pricing.$'
    >>> glob_to_regex("[!a-c]x.y")
    '^[^a-c]x\\\\.y$'
    """
    out: list[str] = ["^"]
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "[":
            klass, i = _bracket(pattern, i)
            if klass == NEVER:
                return NEVER
            out.append(klass if klass is not None else "\\[")
        else:
            out.append(_escape(ch))
    out.append("$")
    return "".join(out)


@dataclass(frozen=True)
class Text:
    """A value as the conditions read it: trimmed, and trimmed then lower-cased,
    with the regular-expression dialect of the engine it lives on."""

    trimmed: ir.StringValue
    lowered: ir.StringValue
    dialect: str = "duckdb"

    def as_read(self, case_sensitive: bool) -> ir.StringValue:
        """The trimmed text, lower-cased unless the condition is case-sensitive."""
        return self.trimmed if case_sensitive else self.lowered


MISSING = Text(ibis.literal(None, type="string"), ibis.literal(None, type="string"))


def prepare(
    table: ir.Table, fields: Iterable[str], columns: dict[str, str]
) -> tuple[ir.Table, dict[str, Text]]:
    """Trim and lower-case each field's column once, for all conditions on it.

    A field the table has no column for reads as missing.
    """
    texts: dict[str, Text] = {}
    derived: dict[str, ir.StringValue] = {}
    dialect = engine_of(table)
    for i, field in enumerate(sorted(set(fields))):
        column = columns.get(field)
        if column is None:
            texts[field] = MISSING
            continue
        trimmed = trim(table[column].cast("string"), dialect)
        derived[f"_t{i}"] = trimmed
        derived[f"_l{i}"] = trimmed.lower()
    table = table.mutate(**derived)
    for i, field in enumerate(sorted(set(fields))):
        if field not in texts:
            texts[field] = Text(table[f"_t{i}"], table[f"_l{i}"], dialect)
    return table, texts


def engine_of(table: ir.Table) -> str:
    """The name of the engine a table lives on (duckdb for unbound tables)."""
    try:
        return str(ibis.get_backend(table).name)
    except IbisError:
        return "duckdb"


def regex_for(pattern: str, dialect: str) -> str:
    """A Python-style pattern in the engine's dialect.

    PostgreSQL writes word boundaries as ``\\y`` and ``\\Y``; RE2 (DuckDB) and
    Java (Spark) read ``\\b`` and ``\\B`` as Python does.

    >>> regex_for(r"\\bcfo\\b", "postgres")
    '\\\\ycfo\\\\y'
    """
    if dialect != "postgres":
        return pattern
    out: list[str] = []
    i = 0
    while i < len(pattern):
        pair = pattern[i : i + 2]
        if pair in _POSTGRES_ESCAPES:
            out.append(_POSTGRES_ESCAPES[pair])
            i += 2
        elif pattern[i] == "\\":
            out.append(pair)
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out)


def _literal_text(expected: Scalar, case_sensitive: bool) -> str:
    if isinstance(expected, bool):
        return "true" if expected else "false"
    text = str(expected).strip()
    return text if case_sensitive else text.lower()


def _equals(value: Text, expected: Scalar, cond: Condition) -> ir.BooleanValue:
    """Numbers compare as numbers, booleans as text without case, the rest as text."""
    if isinstance(expected, bool):
        return value.lowered == _literal_text(expected, False)
    cs = cond.case_sensitive
    text = value.as_read(cs) == _literal_text(expected, cs)
    number = literal_number(expected)
    if number is None:
        return text
    got = as_number(value.trimmed)
    return ibis.ifelse(got.notnull(), got == number, text)


def _glob(value: Text, cond: Condition) -> ir.BooleanValue:
    assert cond.glob is not None
    pattern = _literal_text(cond.glob, cond.case_sensitive)
    subject = value.as_read(cond.case_sensitive)
    if not _LIKE_UNSAFE & set(pattern):
        # LIKE is much faster than a regular expression on every engine.
        return subject.like(pattern.replace("*", "%").replace("?", "_"))
    # (?s): a glob's * and ? also match line breaks.
    return subject.re_search("(?s)" + glob_to_regex(pattern))


def _in_range(value: Text, cond: Condition) -> ir.BooleanValue:
    number = as_number(value.trimmed)
    test: ir.BooleanValue = number.notnull()
    if cond.min is not None:
        test &= number >= cond.min
    if cond.max is not None:
        test &= number <= cond.max
    return test


def _holds(value: Text, cond: Condition) -> ir.BooleanValue:
    kind = cond.kind
    cs = cond.case_sensitive
    if kind == "equals":
        assert cond.equals is not None
        return _equals(value, cond.equals, cond)
    if kind == "in":
        assert cond.in_ is not None
        tests = [_equals(value, item, cond) for item in cond.in_]
        return ibis.or_(*tests) if tests else ibis.literal(False)
    if kind == "range":
        return _in_range(value, cond)
    if kind == "contains":
        assert cond.contains is not None
        return value.as_read(cs).contains(_literal_text(cond.contains, cs))
    if kind == "regex":
        assert cond.regex is not None
        pattern = regex_for(cond.regex, value.dialect)
        return value.trimmed.re_search(("" if cs else "(?i)") + pattern)
    return _glob(value, cond)


def condition(value: Text, cond: Condition) -> ir.BooleanValue:
    """The condition on one prepared value; false (not null) when it is missing."""
    has = value.trimmed.notnull() & (value.trimmed != "")
    if cond.kind == "present":
        return has if cond.present else ~has
    holds = _holds(value, cond).fill_null(False)
    return has & (~holds if cond.not_ else holds)


def conditions(conds: dict[str, Condition], texts: dict[str, Text]) -> ir.BooleanValue:
    """All conditions of a ``when``/``where`` mapping, on :func:`prepare` values."""
    tests = [condition(texts[field], cond) for field, cond in conds.items()]
    return ibis.and_(*tests) if tests else ibis.literal(True)
