"""BANT and opportunity details are validated before a move."""

from __future__ import annotations

from datetime import date

import pytest

from mql.errors import LifecycleError
from mql.lifecycle.bant import Bant, Opportunity

TODAY = date(2026, 12, 4)
GOOD = {
    "budget": "25000",
    "authority": "CFO signs",
    "need": "R&D tax credit study",
    "timeline": "2027-02-28",
}


def test_complete_bant_is_accepted() -> None:
    bant = Bant.parse(GOOD, today=TODAY)
    assert (bant.budget, bant.currency, bant.timeline) == (
        25000,
        "USD",
        date(2027, 2, 28),
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": 0}, r"budget: Input should be greater than 0 \(got 0\)"),
        ({"authority": ""}, r"authority: String should have at least 2 characters"),
        ({"timeline": "soon"}, r"timeline: Input should be a valid date"),
        ({"currency": "us dollars"}, r"currency: String should match pattern"),
        ({"timeline": "2026-01-01"}, r"timeline 2026-01-01 is before today"),
        ({"timeline": "2031-01-01"}, r"more than 1095 days away"),
    ],
)
def test_bad_bant_says_which_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(LifecycleError, match=message):
        Bant.parse({**GOOD, **change}, today=TODAY)


def test_missing_need_is_named() -> None:
    data = {k: v for k, v in GOOD.items() if k != "need"}
    with pytest.raises(
        LifecycleError, match=r"BANT is not valid: need: Field required"
    ):
        Bant.parse(data, today=TODAY)


def test_opportunity_needs_value_and_close() -> None:
    opp = Opportunity.parse({"value": 18000, "expected_close": "2027-01-15"}, TODAY)
    assert opp.value == 18000
    with pytest.raises(LifecycleError, match=r"value: Input should be greater than 0"):
        Opportunity.parse({"value": -1, "expected_close": "2027-01-15"}, TODAY)


def test_a_lowercase_currency_is_read_as_upper_case() -> None:
    assert Bant.parse({**GOOD, "currency": " eur "}, today=TODAY).currency == "EUR"
    opp = Opportunity.parse(
        {"value": 1, "expected_close": "2027-01-15", "currency": "gbp"}, TODAY
    )
    assert opp.currency == "GBP"
