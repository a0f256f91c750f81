"""`not: true` turns a test round; look-around, which DuckDB cannot run, is refused."""

from __future__ import annotations

import pytest

from mql.errors import ModelError
from mql.model import Condition, parse_model
from mql.scoring import matches

HEAD = "name: t\nthreshold: 50\nfit:\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("CA", True), ("us", False), (" USA ", False), ("", False), (None, False)],
)
def test_not_holds_on_a_present_value_that_fails(value: str | None, expected: bool):
    condition = Condition.model_validate({"in": ["US", "USA"], "not": True})
    assert matches(condition, value) is expected


def test_not_on_a_range_holds_for_text_that_is_no_number():
    condition = Condition.model_validate({"min": 10, "max": 20, "not": True})
    assert matches(condition, "abc")
    assert matches(condition, 25)
    assert not matches(condition, 15)


@pytest.mark.parametrize(
    "pattern", ["^(?!(us|usa)$)", "(?=x)cfo", "(?<=a)b", "(?<!a)b", r"(a)\1"]
)
def test_look_around_and_back_references_are_refused(pattern: str):
    text = (
        HEAD + f"  - {{id: r, when: {{country: {{regex: '{pattern}'}}}}, points: 5}}\n"
    )
    with pytest.raises(ModelError, match=r"m\.yaml:4: .*DuckDB cannot run"):
        parse_model(text, source="m.yaml")


def test_look_around_comes_with_the_not_hint():
    text = HEAD + "  - {id: r, when: {country: {regex: '^(?!us$)'}}, points: 5}\n"
    with pytest.raises(ModelError, match=r"\(look-around\).*add `not: true`"):
        parse_model(text, source="m.yaml")


def test_not_cannot_turn_round_present():
    text = (
        HEAD + "  - {id: r, when: {country: {present: true, not: true}}, points: 5}\n"
    )
    with pytest.raises(ModelError, match="present: false"):
        parse_model(text, source="m.yaml")


def test_escaped_backslash_before_a_digit_is_not_a_back_reference():
    text = HEAD + "  - {id: r, when: {code: {regex: '\\\\1'}}, points: 5}\n"
    assert parse_model(text, source="m.yaml").fit[0].when["code"].regex == "\\\\1"


def test_look_around_characters_inside_a_class_are_plain():
    text = HEAD + "  - {id: r, when: {title: {regex: '[(?!]x'}}, points: 5}\n"
    assert parse_model(text, source="m.yaml").fit[0].when["title"].regex == "[(?!]x"


def test_a_back_reference_is_named_as_one():
    text = HEAD + "  - {id: r, when: {title: {regex: '(a)\\1'}}, points: 5}\n"
    with pytest.raises(ModelError, match=r"\(a back-reference\).*instead"):
        parse_model(text, source="m.yaml")
