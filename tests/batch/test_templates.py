"""Every shipped template runs on the batch engine and agrees with the per-lead one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ibis.backends import BaseBackend

from mql.batch import connect, rescore
from mql.model import Model, load_template
from mql.model.loader import TEMPLATES
from mql.scoring import Event

from ._support import Lead, assert_same, day, tables

#: Countries and states that the templates' negative tests tell apart.
PLACES = [
    {"account.country": "US", "account.state": "NY"},
    {"account.country": "U.S.A.", "account.state": "FL"},
    {"account.country": "CA", "account.state": "ON"},
    {"account.country": "United Kingdom"},
    {"account.state": "California"},
    {},
]
PROPERTIES = {
    "url": "https://firm.example/services/tax",
    "form": "contact",
    "asset": "Year-end guide",
    "campaign": "tax-update",
    "talk": "Succession",
    "referrer": "Partner",
}


@pytest.fixture(scope="module")
def duckdb_backend() -> Iterator[BaseBackend]:
    backend = connect("duckdb")
    yield backend
    backend.disconnect()


def _leads(model: Model) -> list[Lead]:
    types = sorted({t for rule in model.intent for t in rule.event})
    leads = []
    for i, place in enumerate(PLACES):
        events = [
            Event(f"L{i}-{k}", kind, day(k), PROPERTIES)
            for k, kind in enumerate(types[i % 2 :: 1 + i % 3])
        ]
        attributes = {"title": "CFO" if i % 2 else "Owner", **place}
        leads.append(Lead(f"L{i}", attributes, events))
    return leads


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_runs_on_duckdb(duckdb_backend: BaseBackend, name: str) -> None:
    model = load_template(name)
    leads = _leads(model)
    events, roster = tables(model, leads)
    at = day(40)
    result = rescore(model, events, roster, at, duckdb_backend)
    assert result.num_rows == len(PLACES)
    assert_same(model, leads, result, at)
