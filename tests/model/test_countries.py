"""account.country: ISO 3166 codes, with the common spellings read the same way."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mql.model import TEMPLATES, load_template
from mql.scoring import new_state

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

US_SPELLINGS = [
    "US",
    "us",
    " US ",
    "USA",
    "U.S.",
    "U.S.A.",
    "U.S.A",
    "United States",
    "united states",
    "United States of America",
]
ABROAD = ["CA", "GB", "DE", "Canada", "United Kingdom", "Usbekistan", "USSR"]
#: The templates that score on the country: outside_us where the firm serves the
#: United States only, served_country where it contracts in several.
US_ONLY = ("cpa", "law", "hr")


def fit_rules(name: str, country: str) -> tuple[str, ...]:
    return new_state(load_template(name), {"account.country": country}).fit_rules


def test_every_template_reads_the_country():
    for name in TEMPLATES:
        fields = {f for rule in load_template(name).fit for f in rule.when}
        assert "account.country" in fields, name


@pytest.mark.parametrize("name", US_ONLY)
@pytest.mark.parametrize("country", US_SPELLINGS)
def test_us_firms_are_not_penalised_however_written(name: str, country: str):
    assert "outside_us" not in fit_rules(name, country)


@pytest.mark.parametrize("name", US_ONLY)
@pytest.mark.parametrize("country", ABROAD)
def test_firms_abroad_are_penalised(name: str, country: str):
    assert "outside_us" in fit_rules(name, country)


@pytest.mark.parametrize("name", US_ONLY)
def test_an_unknown_country_is_not_penalised(name: str):
    assert "outside_us" not in fit_rules(name, "")


@pytest.mark.parametrize(
    "country",
    [
        *US_SPELLINGS,
        "GB",
        "UK",
        "U.K.",
        "United Kingdom",
        "Great Britain",
        "Canada",
        "Germany",
        "The Netherlands",
        "IE",
    ],
)
def test_consulting_serves_its_countries_however_written(country: str):
    assert "served_country" in fit_rules("consulting", country)


@pytest.mark.parametrize("country", ["FR", "France", "Usbekistan", ""])
def test_consulting_does_not_serve_other_countries(country: str):
    assert "served_country" not in fit_rules("consulting", country)
