"""The shared YAML reader: YAML 1.2 scalars, lines of every path, duplicate keys;
the model, import mapping and lifecycle configuration readers all use it."""

from __future__ import annotations

from datetime import time

import pytest

from mql.errors import InputError, ModelError
from mql.ingest.mapping import parse_mapping
from mql.lifecycle.config import parse_config
from mql.model import Repeat, parse_model
from mql.yamlfile import YamlProblem, line_of, read_yaml


def test_yaml_1_1_surprises_are_read_as_yaml_1_2():
    doc = read_yaml(
        "country: NO\nprovince: ON\nanswer: yes\nzip: 01234\ntime: 1:30\n"
        "flag: True\nquoted: 'off'\n",
        YamlProblem,
    )
    assert doc.data == {
        "country": "NO",
        "province": "ON",
        "answer": "yes",
        "zip": 1234,
        "time": "1:30",
        "flag": True,
        "quoted": "off",
    }


def test_every_path_has_its_line():
    doc = read_yaml("a:\n  - x: 1\n    y: [2, 3]\nb: 4\n", YamlProblem)
    assert doc.lines[("a",)] == 1
    assert doc.lines[("a", 0, "y")] == 3
    assert doc.line_of(("a", 0, "y", 1, "deeper")) == 3
    assert doc.root_line == 1
    assert line_of(doc.lines, ("nowhere",)) == 1


def test_an_empty_document_has_no_data():
    assert read_yaml("# nothing\n", YamlProblem).data is None


def test_a_key_given_twice_is_refused_with_its_line():
    with pytest.raises(YamlProblem, match=r"key 'a' appears twice") as info:
        read_yaml("a: 1\nb: 2\na: 3\n", YamlProblem)
    assert info.value.line == 3


def test_text_that_is_not_yaml_goes_through_the_readers_error():
    with pytest.raises(YamlProblem, match=r"^not valid YAML: .*; fix it") as info:
        read_yaml("a: [1\n", YamlProblem, syntax_hint="fix it")
    assert info.value.line == 2


@pytest.mark.parametrize(
    ("written", "mode", "key", "count"),
    [
        ("{mode: every}", "every", None, None),
        ("{mode: once}", "once", None, None),
        ("{mode: once_per, key: asset}", "once_per", "asset", None),
        ("{mode: min_count, count: 3}", "min_count", None, 3),
    ],
)
def test_repeat_long_form(written: str, mode: str, key: str | None, count: int | None):
    m = parse_model(
        "name: t\nthreshold: 50\ngroups: [{id: w}]\n"
        f"intent: [{{id: a, event: v, points: 1, group: w, repeat: {written}}}]\n"
    )
    assert m.intent[0].repeat == Repeat(mode=mode, key=key, count=count)  # type: ignore[arg-type]


def test_repeat_long_form_count_must_be_a_whole_number():
    with pytest.raises(
        ModelError, match=r"repeat\.count: Input should be a valid integer"
    ):
        parse_model(
            "name: t\nthreshold: 50\ngroups: [{id: w}]\n"
            "intent: [{id: a, event: v, points: 1, group: w,\n"
            "          repeat: {mode: min_count, count: '3'}}]\n"
        )


def test_the_import_mapping_reads_yaml_1_2():
    """yes/on are text for true_values (YAML 1.1 made them booleans, refused)."""
    mapping = parse_mapping("true_values: [yes, on, y]\nfalse_values: [no, off, n]\n")
    assert mapping.true_values == ("yes", "on", "y")
    assert mapping.false_values == ("no", "off", "n")


def test_the_import_mapping_refuses_a_key_given_twice():
    with pytest.raises(
        InputError, match=r"^m\.yaml:2: key 'timezone' appears twice in the same"
    ):
        parse_mapping("timezone: UTC\ntimezone: Europe/Oslo\n", source="m.yaml")


def test_the_lifecycle_config_reads_yaml_1_2():
    """09:00 is nine o'clock, not 540 (base 60) read as 00:09; NO is Norway."""
    config = parse_config(
        "owners: [{id: ana}]\nsla:\n  start: 08:30\n  end: 17:00\n"
        "routing:\n  rules:\n    - name: nordic\n      when: {country: NO}\n"
        "      owners: [ana]\n"
    )
    assert (config.sla.start, config.sla.end) == (time(8, 30), time(17, 0))
    assert config.routing.rules[0].when["country"].equals == "NO"


def test_a_value_yaml_cannot_build_is_refused_with_its_field_and_line():
    with pytest.raises(
        YamlProblem,
        match=r"^holidays\.1: '2025-02-30' is not a valid value \(.*\); write dates "
        r"as YYYY-MM-DD",
    ) as info:
        read_yaml("holidays:\n  - 2025-12-25\n  - 2025-02-30\n", YamlProblem)
    assert info.value.line == 3
