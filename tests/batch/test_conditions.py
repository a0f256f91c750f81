"""Conditions compiled to SQL hold exactly where the per-lead engine's hold."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ibis.backends import BaseBackend

from mql.batch import connect
from mql.batch.conditions import condition, glob_to_regex, prepare
from mql.batch.layout import as_text
from mql.model import Condition
from mql.scoring import matches

VALUES: list[Any] = [
    None, "", "  ", "200", " 200 ", "200.0", "2e2", "abc", "ABC", "VP Finance",
    "vp", "https://firm.example/Fees/tax", "/fees", "x.y", "true", "True", True,
    False, 200, 200.5, -3, "-3", "+.5", "a\nb", "[x]", "café",
]  # fmt: skip
CONDITIONS: list[dict[str, Any]] = [
    {"equals": 200},
    {"equals": "200"},
    {"equals": "abc"},
    {"equals": "ABC", "case_sensitive": True},
    {"equals": True},
    {"in": ["vp", 200, "x.y"]},
    {"min": 100},
    {"max": 0},
    {"min": -5, "max": 1},
    {"contains": "FEES"},
    {"contains": "Fees", "case_sensitive": True},
    {"regex": "^v"},
    {"regex": r"\d{3}"},
    {"regex": "fin", "case_sensitive": True},
    {"regex": r"\bvp\b"},
    {"regex": r"\Bp"},
    {"glob": "*/fees*"},
    {"glob": "?b?"},
    {"glob": "x.y"},
    {"glob": "a*b"},
    {"glob": "[!a-c]*"},
    {"glob": "[[]x]"},
    {"glob": "*%*"},
    {"glob": "x_y"},
    {"glob": "*/FEES*", "case_sensitive": True},
    {"present": True},
    {"present": False},
]


@pytest.fixture(scope="module")
def backend() -> Iterator[BaseBackend]:
    con = connect("duckdb")
    yield con
    con.disconnect()


def _check(backend: BaseBackend, spec: dict[str, Any]) -> None:
    cond = Condition.model_validate(spec)
    data = pa.table({"k": range(len(VALUES)), "v": [as_text(v) for v in VALUES]})
    table = backend.create_table(f"c{abs(hash(str(spec)))}", data, temp=True)
    table, texts = prepare(table, ["v"], {"v": "v"})
    out = table.select("k", holds=condition(texts["v"], cond)).order_by("k")
    got = backend.to_pyarrow(out)["holds"].to_pylist()
    want = [matches(cond, v) for v in VALUES]
    pairs = [(v, g, w) for v, g, w in zip(VALUES, got, want, strict=True)]
    assert got == want, (spec, pairs)


@pytest.mark.parametrize("spec", CONDITIONS, ids=str)
def test_condition_matches_per_lead_engine(
    backend: BaseBackend, spec: dict[str, Any]
) -> None:
    _check(backend, spec)


@pytest.mark.postgres
def test_conditions_match_per_lead_engine_on_postgres(postgres_url: str) -> None:
    backend = connect("postgres", postgres_url)
    try:
        for spec in CONDITIONS:
            _check(backend, spec)
    finally:
        backend.disconnect()


@given(
    pattern=st.text(alphabet="ab*?[]!-.", max_size=8),
    value=st.text(alphabet="ab-.]![", max_size=8),
)
def test_glob_regex_accepts_what_fnmatch_accepts(pattern: str, value: str) -> None:
    regex = glob_to_regex(pattern)
    assert bool(re.search("(?s)" + regex, value)) == fnmatch.fnmatchcase(value, pattern)


def test_glob_is_anchored_at_both_ends() -> None:
    assert glob_to_regex("fees") == "^fees$"
