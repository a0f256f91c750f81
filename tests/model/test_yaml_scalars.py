"""How the loader reads plain YAML scalars: empty values and YAML 1.1 surprises."""

from __future__ import annotations

import pytest

from mql.errors import ModelError
from mql.model import parse_model

BASE = "name: t\nthreshold: 50\n"


@pytest.mark.parametrize("key", ["description", "total_cap"])
def test_a_key_left_empty_reads_as_null(key: str) -> None:
    """`key:` with nothing after it is YAML null, not a crash of the YAML library."""
    model = parse_model(f"{BASE}{key}:\n")
    assert model.name == "t"


@pytest.mark.parametrize("key", ["groups", "disqualifiers"])
def test_a_list_left_empty_is_a_model_error_with_its_line(key: str) -> None:
    """A list whose every item is commented out is refused by the schema, not YAML."""
    with pytest.raises(ModelError, match=rf"^<string>:3: {key}: .*list.*got None"):
        parse_model(f"{BASE}{key}:\n  # - {{id: x}}\n")


def test_an_empty_condition_value_is_a_model_error_with_its_line() -> None:
    text = f"{BASE}fit:\n  - id: a\n    when: {{x: {{present: }}}}\n    points: 1\n"
    with pytest.raises(ModelError, match=r"^<string>:5: fit\.0\.when\.x"):
        parse_model(text)


def test_country_and_province_codes_stay_text() -> None:
    """NO (Norway) and ON (Ontario) are codes, not the YAML 1.1 booleans."""
    model = parse_model(
        f"{BASE}fit:\n"
        "  - {id: nordic, when: {account.country: [NO, SE]}, points: 10}\n"
        "  - {id: ontario, when: {account.state: ON}, points: 5}\n"
        "  - {id: flag, when: {account.is_client: true}, points: 1}\n"
    )
    nordic, ontario, flag = model.fit
    assert nordic.when["account.country"].in_ == ("NO", "SE")
    assert ontario.when["account.state"].equals == "ON"
    assert flag.when["account.is_client"].equals is True


def test_yes_is_not_a_number_of_points() -> None:
    with pytest.raises(ModelError, match=r"^<string>:4: fit\.0\.points: .*got 'yes'"):
        parse_model(f"{BASE}fit:\n  - {{id: a, when: {{x: 1}}, points: yes}}\n")


def test_a_leading_zero_is_decimal_not_octal() -> None:
    """A postal code such as 01234 is 1234, as YAML 1.2 reads it, never octal 668."""
    model = parse_model(
        f"{BASE}fit:\n  - {{id: z, when: {{zip: [01234]}}, points: 1}}\n"
    )
    assert model.fit[0].when["zip"].in_ == (1234,)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("threshold: .nan", "threshold"),
        ("total_cap: .nan", "total_cap"),
        ("fit: [{id: a, when: {x: 1}, points: .nan}]", r"fit\.0\.points"),
        ("fit: [{id: a, when: {x: {min: .nan}}, points: 1}]", r"fit\.0\.when\.x\.min"),
        ("groups: [{id: g, cap: .inf}]", r"groups\.0\.cap"),
    ],
)
def test_not_a_number_and_infinity_are_refused(line: str, field: str) -> None:
    """A NaN would make every score NaN (and never an MQL) without a word."""
    text = "name: t\n" + ("" if line.startswith("threshold") else "threshold: 50\n")
    with pytest.raises(ModelError, match=rf"^<string>:\d: {field}: .*finite"):
        parse_model(text + line + "\n")


REPEAT = "name: t\nthreshold: 5\ngroups: [{id: g}]\nintent:\n" + (
    "  - {id: a, event: x, points: 1, group: g,\n     repeat: %s}\n"
)


@pytest.mark.parametrize(
    ("repeat", "got"),
    [
        ("{once_pr: asset}", "once_pr"),
        ("{min_count: 2, once_per: a}", "min_count, once_per"),
        ("{}", "nothing"),
    ],
)
def test_a_wrong_repeat_mapping_names_the_written_modes(repeat: str, got: str) -> None:
    """Not the schema's inner fields (mode, key, count), which no user writes."""
    with pytest.raises(ModelError, match=r"^<string>:6: intent\.0\.repeat: ") as info:
        parse_model(REPEAT % repeat)
    message = str(info.value)
    assert f"got {got}" in message
    assert "{once_per: PROPERTY} or {min_count: N}" in message
    assert "mode" not in message.replace("not a mode", "")
