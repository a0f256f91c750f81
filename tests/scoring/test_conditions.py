"""Each condition kind, worked by hand (docs/scoring.md, "Conditions")."""

from __future__ import annotations

from typing import Any

import pytest

from mql.model import Condition
from mql.scoring import matches


def cond(spec: Any) -> Condition:
    return Condition.model_validate(spec)


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        # equals: text without case, numbers as numbers
        ({"equals": "CFO"}, "cfo", True),
        ({"equals": "CFO"}, " CFO ", True),
        ({"equals": "CFO"}, "CFO of Acme", False),
        ({"equals": "CFO", "case_sensitive": True}, "cfo", False),
        ({"equals": 200}, "200", True),
        ({"equals": 200}, 200.0, True),
        ({"equals": "200"}, 200, True),
        ({"equals": 200}, "201", False),
        ({"equals": True}, True, True),
        ({"equals": True}, "true", True),
        ({"equals": True}, 1, False),
        ("US-NY", "us-ny", True),
        # in
        ({"in": ["DE", "FR"]}, "fr", True),
        ({"in": ["DE", "FR"]}, "IT", False),
        (["DE", "FR"], "de", True),
        ({"in": [100, 200]}, "200", True),
        # range
        ({"min": 200, "max": 999}, 200, True),
        ({"min": 200, "max": 999}, "999", True),
        ({"min": 200, "max": 999}, 1000, False),
        ({"min": 200, "max": 999}, 199.5, False),
        ({"min": 200}, 10**6, True),
        ({"max": 10}, -3, True),
        ({"min": 200, "max": 999}, "many", False),
        ({"min": 0}, True, False),
        # contains
        ({"contains": "vp"}, "Senior VP Finance", True),
        ({"contains": "VP", "case_sensitive": True}, "svp", False),
        ({"contains": "partner"}, "Managing Director", False),
        # regex: search anywhere
        ({"regex": r"^(chief|c)f(inancial)?o"}, "CFO", True),
        ({"regex": r"/services/(tax|audit)"}, "https://f.example/Services/Tax", True),
        ({"regex": r"/services/tax", "case_sensitive": True}, "/Services/Tax", False),
        ({"regex": r"\bhr\b"}, "Head of HR", True),
        ({"regex": r"\bhr\b"}, "Three", False),
        # glob: the whole value
        ({"glob": "*/fees*"}, "https://firm.example/fees/2025", True),
        ({"glob": "*/fees"}, "https://firm.example/fees/2025", False),
        ({"glob": "*.edu"}, "MIT.EDU", True),
        ({"glob": "us-??"}, "US-NY", True),
        ({"glob": "[abc]*"}, "Beta", True),
        # present
        ({"present": True}, "x", True),
        ({"present": True}, 0, True),
        ({"present": True}, "  ", False),
        ({"present": False}, None, True),
        ({"present": False}, "", True),
        ({"present": False}, "x", False),
    ],
)
def test_condition_holds_as_worked_by_hand(spec: Any, value: Any, expected: bool):
    assert matches(cond(spec), value) is expected


@pytest.mark.parametrize(
    "spec",
    [
        {"equals": "x"},
        {"in": ["x"]},
        {"min": 0},
        {"contains": ""},
        {"regex": ".*"},
        {"glob": "*"},
        {"present": True},
    ],
)
@pytest.mark.parametrize("missing", [None, "", "   "])
def test_missing_value_fails_every_condition_but_present_false(spec: Any, missing: Any):
    assert matches(cond(spec), missing) is False
