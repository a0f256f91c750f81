"""No lead is an MQL without activity: fit alone stays below every template's bar."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from mql.model import (
    TEMPLATES,
    Condition,
    FitRule,
    Model,
    fit_ceiling,
    load_template,
    parse_model,
)
from mql.scoring import all_match, new_state, score

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

#: Every buying title of every template at once: the worst case for title rules.
STACKED_TITLE = (
    "Owner, Founder & CEO / Managing Partner / CFO & Controller / General Counsel / "
    "HR Director & CHRO / VP Operations and Digital Transformation"
)


def _candidates(condition: Condition) -> list[Any]:
    """Values that make a condition hold (and its edges), to search fit by hand."""
    if condition.kind == "range":
        low = condition.min if condition.min is not None else -1e12
        high = condition.max if condition.max is not None else 1e12
        return [low, high, (low + high) / 2]
    if condition.kind == "in":
        return list(condition.in_ or ())
    if condition.kind == "equals":
        return [condition.equals]
    return [STACKED_TITLE]


def _best_fit_by_search(model: Model) -> float:
    """The highest fit over every value any rule names, field by field.

    Fields are independent, so the best of each field adds up; within a field every
    candidate value is tried against every rule on it.
    """
    fields: dict[str, list[Any]] = {}
    for rule in model.fit:
        for name, condition in rule.when.items():
            fields.setdefault(name, []).extend(_candidates(condition))
    best = 0.0
    for name, values in fields.items():
        rules = [r for r in model.fit if list(r.when) == [name]]
        # None: the field left out, which no rule but present: false accepts.
        best += max(
            sum(r.points for r in rules if holds(r, name, v)) for v in [None, *values]
        )
    return best


def holds(rule: FitRule, name: str, value: Any) -> bool:
    """Whether a one-field fit rule holds on this value."""
    return all_match(rule.when, {name: value})


@pytest.mark.parametrize("name", TEMPLATES)
def test_fit_ceiling_stays_below_the_threshold(name: str):
    model = load_template(name)
    assert fit_ceiling(model) < model.threshold


@pytest.mark.parametrize("name", TEMPLATES)
def test_fit_ceiling_is_reached_by_real_attributes(name: str):
    """The bound is tight: searching the values the rules name reaches it."""
    model = load_template(name)
    assert _best_fit_by_search(model) == fit_ceiling(model)


@pytest.mark.parametrize(
    ("name", "title"),
    [("cpa", "Owner & CFO"), ("hr", "Owner / HR Director")]
    + [(name, STACKED_TITLE) for name in TEMPLATES],
)
def test_stacked_titles_count_once_and_make_no_mql(name: str, title: str):
    model = load_template(name)
    best = {
        "title": title,
        "account.employees": 50 if name != "consulting" else 1200,
        "account.industry": {"consulting": "insurance", "law": "technology"}.get(
            name, "construction"
        ),
        "account.state": {"law": "CA", "hr": "CA"}.get(name, "NY"),
        "account.country": "US",
        "account.annual_revenue": 60_000_000,
    }
    result = score(model, best, [], T0)
    titles = [r for r in result_rules(model, best) if r.startswith("title")]
    assert len(titles) == 1
    assert result.fit <= fit_ceiling(model) < model.threshold
    assert not result.mql


def result_rules(model: Model, attributes: dict[str, Any]) -> list[str]:
    """The ids of the fit rules that hold."""
    return list(new_state(model, attributes).fit_rules)


def test_overlapping_title_rules_add_up_in_the_ceiling():
    """The shape the templates had: two title rules holding on 'Owner & CFO'."""
    model = parse_model(
        "name: t\nthreshold: 75\nfit:\n"
        "  - {id: owner, when: {title: {regex: owner}}, points: 20}\n"
        "  - {id: cfo, when: {title: {regex: cfo}}, points: 25}\n"
        "  - {id: size, when: {employees: {min: 20, max: 249}}, points: 15}\n"
        "  - {id: state, when: {state: [NY, NJ]}, points: 10}\n"
        "  - {id: industry, when: {industry: [construction]}, points: 10}\n"
    )
    assert fit_ceiling(model) == 80
    attributes = {
        "title": "Owner & CFO",
        "employees": 50,
        "state": "NY",
        "industry": "construction",
    }
    assert score(model, attributes, [], T0).mql


@pytest.mark.parametrize(
    ("rules", "ceiling"),
    [
        pytest.param(
            [
                "{id: a, when: {n: {max: 49}}, points: 10}",
                "{id: b, when: {n: {min: 50}}, points: 20}",
            ],
            20,
            id="disjoint-ranges-take-the-best",
        ),
        pytest.param(
            [
                "{id: a, when: {n: {max: 50}}, points: 10}",
                "{id: b, when: {n: {min: 50}}, points: 20}",
            ],
            30,
            id="ranges-sharing-an-edge-add-up",
        ),
        pytest.param(
            [
                "{id: a, when: {s: [NY, NJ]}, points: 10}",
                "{id: b, when: {s: [ca, ' nj ']}, points: 5}",
            ],
            15,
            id="lists-sharing-a-value-ignoring-case-add-up",
        ),
        pytest.param(
            [
                "{id: a, when: {s: [NY]}, points: 10}",
                "{id: b, when: {s: CA}, points: 5}",
            ],
            10,
            id="disjoint-lists-take-the-best",
        ),
        pytest.param(
            [
                "{id: a, when: {s: [200]}, points: 10}",
                "{id: b, when: {s: ['200.0']}, points: 5}",
            ],
            15,
            id="numbers-are-never-assumed-apart",
        ),
        pytest.param(
            [
                "{id: a, when: {s: [NY], t: x}, points: 10}",
                "{id: b, when: {s: CA}, points: 5}",
            ],
            15,
            id="several-fields-add-up",
        ),
        pytest.param(
            [
                "{id: a, when: {s: [NY]}, points: -10}",
                "{id: b, when: {t: {contains: x}}, points: 5}",
            ],
            5,
            id="penalties-can-be-avoided",
        ),
    ],
)
def test_fit_ceiling_cases(rules: list[str], ceiling: float):
    text = "name: t\nthreshold: 50\nfit:\n" + "".join(f"  - {r}\n" for r in rules)
    assert fit_ceiling(parse_model(text)) == ceiling


def test_ceiling_is_an_upper_bound_on_a_grid():
    """Every combination of a few values stays at or under the bound."""
    model = load_template("cpa")
    grid = {
        "title": ["Owner & CFO", "Managing Partner", "Clerk", None],
        "account.employees": [3, 5, 19, 20, 249, 250, 999, 5000],
        "account.annual_revenue": [1_000_000, 2_000_000, 100_000_000],
        "account.industry": ["construction", "mining"],
        "account.state": ["NY", "TX"],
        "account.country": ["US", "CA"],
    }
    ceiling = fit_ceiling(model)
    for values in itertools.product(*grid.values()):
        attributes = dict(zip(grid, values, strict=True))
        assert score(model, attributes, [], T0).fit <= ceiling
