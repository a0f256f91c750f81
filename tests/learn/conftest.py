"""Fixtures of the learn tests: the public lead data sets, read once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from mql.learn import LeadData, bank_marketing, x_education
from mql.model import Model, load_model

MODELS = Path(__file__).parent / "models"


@pytest.fixture(scope="session")
def x_leads(shared_data: Path) -> LeadData:
    """X Education's 9,240 leads without the columns sales fills in."""
    return x_education(shared_data / "x-education-leads" / "Leads.csv")


@pytest.fixture(scope="session")
def bank_leads(shared_data: Path) -> LeadData:
    """UCI Bank Marketing's 45,211 clients without the call duration."""
    return bank_marketing(shared_data / "uci-bank-marketing" / "bank-full.csv")


@pytest.fixture(scope="session")
def hand_model() -> Model:
    """The hand-made model for the X Education leads."""
    return load_model(MODELS / "x_education_hand.yaml")
