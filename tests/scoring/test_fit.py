"""Fit is state recomputed from attributes; grades, disqualifiers, min grade."""

from __future__ import annotations

from typing import Any

import pytest

from mql.scoring import grade_of, new_state, read, score, with_attributes

from ._support import T0, ev, model

FIT_MODEL = model(
    """
    name: fit
    threshold: 30
    fit:
      - {id: vp, when: {title: {regex: '\\bvp\\b'}}, points: 20}
      - {id: mid_size, when: {employees: {min: 200, max: 999}}, points: 15}
      - {id: eu_core, when: {account.country: {in: [DE, FR]}}, points: 10}
      - {id: no_phone, when: {phone: {present: false}}, points: -5}
    disqualifiers:
      - {id: student, when: {email_domain: {glob: '*.edu'}}, reason: student}
      - {id: competitor, when: {email_domain: rival.example}, reason: competitor}
    """
)


def test_fit_is_recomputed_from_current_attributes():
    m = model(
        """
        name: fit
        threshold: 50
        fit:
          - {id: vp, when: {title: VP}, points: 20}
          - {id: mid, when: {employees: {min: 200, max: 999}}, points: 15}
          - {id: eu, when: {country: {in: [DE, FR]}}, points: 10}
        """
    )
    updates: list[dict[str, Any]] = [
        {"title": "VP"},
        {"title": "VP"},
        {"title": "VP", "employees": 500},
        {"title": "VP", "employees": 500},
        {"title": "Analyst", "employees": 500},
    ]
    state = new_state(m, {})
    seen = []
    for attributes in updates:
        state = with_attributes(m, state, attributes)
        seen.append(state.fit)
    assert seen == [20, 20, 35, 35, 15]


@pytest.mark.parametrize(
    ("attributes", "fit", "rules"),
    [
        ({"title": "VP Finance", "phone": "1"}, 20, ("vp",)),
        ({"title": "SVP", "phone": "1"}, 0, ()),
        ({"employees": "450", "phone": "1"}, 15, ("mid_size",)),
        ({"account.country": "fr", "phone": "1"}, 10, ("eu_core",)),
        ({"title": "vp", "employees": 999, "account.country": "DE"}, 40, None),
        ({}, -5, ("no_phone",)),
    ],
)
def test_fit_sums_the_rules_that_hold(
    attributes: dict[str, Any], fit: float, rules: tuple[str, ...] | None
):
    state = new_state(FIT_MODEL, attributes)
    assert state.fit == fit
    if rules is not None:
        assert state.fit_rules == rules


@pytest.mark.parametrize(
    ("fit", "grade"),
    [(100, "A"), (40, "A"), (39.99, "B"), (25, "B"), (10, "C"), (9, "D"), (-5, "D")],
)
def test_default_grade_bands(fit: float, grade: str):
    assert grade_of(FIT_MODEL, fit) == grade


@pytest.mark.parametrize(("fit", "grade"), [(30, "A"), (29, "B"), (5, "C"), (0, "D")])
def test_grade_bands_are_configurable(fit: float, grade: str):
    m = model("name: g\nthreshold: 1\ngrades: {A: 30, B: 20, C: 5}\n")
    assert grade_of(m, fit) == grade


@pytest.mark.parametrize(
    ("domain", "reason"),
    [("cs.stanford.edu", "student"), ("RIVAL.example", "competitor"), ("a.com", None)],
)
def test_disqualifier_keeps_score_but_never_mql(domain: str, reason: str | None):
    attributes = {"title": "VP", "employees": 300, "phone": "1", "email_domain": domain}
    result = score(FIT_MODEL, attributes, [], T0)
    assert result.score == 35
    assert result.disqualified_reason == reason
    assert result.mql is (reason is None)
    assert result.mql_until is None


def test_first_disqualifier_in_file_order_gives_the_reason():
    m = model(
        """
        name: d
        threshold: 50
        disqualifiers:
          - {id: a, when: {x: {present: true}}, reason: first}
          - {id: b, when: {x: {present: true}}, reason: second}
        """
    )
    assert new_state(m, {"x": 1}).disqualified_reason == "first"


def test_disqualifier_lifts_when_attributes_change():
    state = new_state(FIT_MODEL, {"title": "VP", "email_domain": "mit.edu"})
    state = with_attributes(FIT_MODEL, state, {"title": "VP", "email_domain": "a.io"})
    assert state.disqualifier is None
    assert read(FIT_MODEL, state, T0).disqualified_reason is None


@pytest.mark.parametrize(
    ("min_grade", "employees", "mql"),
    [(None, 5, True), ("C", 5, True), ("B", 5, False), ("B", 500, True)],
)
def test_min_grade_gates_mql(min_grade: str | None, employees: int, mql: bool):
    gate = f"min_grade: {min_grade}\n" if min_grade else ""
    m = model(
        f"""
        name: g
        threshold: 30
        {gate}
        grades: {{A: 40, B: 25, C: 10}}
        groups: [{{id: web}}]
        fit:
          - {{id: vp, when: {{title: VP}}, points: 20}}
          - {{id: mid, when: {{employees: {{min: 200}}}}, points: 15}}
        intent:
          - {{id: fees, event: view, points: 30, group: web, repeat: every}}
        """
    )
    result = score(m, {"title": "VP", "employees": employees}, [ev("e", "view", 0)], T0)
    assert result.score >= 30
    assert result.mql is mql


@pytest.mark.parametrize(
    ("threshold", "mql"),
    [(44.0, True), (45.0, True), (45.000001, False), (60.0, False)],
)
def test_threshold_is_inclusive(threshold: float, mql: bool):
    """20 fit + 25 intent (no decay) = 45: an MQL at a threshold of 45, not above."""
    m = model(
        f"""
        name: t
        threshold: {threshold}
        decay: {{rate: 0}}
        groups: [{{id: web}}]
        fit: [{{id: vp, when: {{title: VP}}, points: 20}}]
        intent:
          - {{id: fees, event: view, points: 25, group: web, repeat: every}}
        """
    )
    result = score(m, {"title": "VP"}, [ev("e", "view", 0)], T0)
    assert result.score == 45.0
    assert result.mql is mql
