"""The leakage guard refuses post-contact and near-perfect features."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from mql.errors import InputError
from mql.learn import (
    LEAKY_AUC,
    LeadData,
    Options,
    from_frame,
    guard,
    learn,
    learn_html,
    learn_text,
    read_leads,
)
from mql.learn.leakage import SUSPICIOUS_IV, single_feature_auc


@pytest.mark.shared_data
def test_x_education_tags_declared_post_contact_are_refused(shared_data: Path) -> None:
    data = read_leads(
        shared_data / "x-education-leads" / "Leads.csv",
        "Converted",
        missing=["Select"],
        post_contact=["Tags", "Lead Quality"],
    )
    with pytest.raises(
        InputError,
        match=r"features that would leak the outcome: Tags: declared as filled in "
        r"after sales contact; Lead Quality: .*--exclude tags --exclude lead_quality",
    ):
        guard(data)


def _leaky(seed: int = 3) -> LeadData:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 500)
    status = np.where(y == 1, "won", "lost")
    status[:5] = "open"
    import pandas as pd

    frame = pd.DataFrame(
        {"status": status, "visits": rng.poisson(3, 500), "converted": y}
    )
    return from_frame(frame, "converted", source="crm.csv")


def test_a_feature_that_alone_gives_the_outcome_away_is_refused() -> None:
    with pytest.raises(
        InputError,
        match=r"crm.csv: .*status: alone it ranks leads with ROC AUC 1.000\. "
        r"Leave them out \(--exclude status\)",
    ):
        guard(_leaky())


def test_allow_leaky_keeps_it_with_a_note(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        findings = guard(_leaky(), allow=True)
    assert [f.field for f in findings] == ["status"]
    assert "LEAKAGE" in caplog.text


@pytest.mark.shared_data
def test_honest_features_pass(x_leads: LeadData) -> None:
    assert guard(x_leads) == []
    top = max(
        single_feature_auc(x_leads.frame[c], x_leads.outcome) for c in x_leads.features
    )
    assert 0.7 < top < 0.95


def _strong(seed: int = 4, rows: int = 400) -> LeadData:
    """A field with a very high IV whose AUC alone stays under the AUC line."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    tag = rng.choice(["called back", "no answer"], rows)
    rate = np.where(tag == "called back", 0.85, 0.15)
    y = (rng.random(rows) < rate).astype(int)
    frame = pd.DataFrame(
        {"tag": tag, "visits": rng.poisson(3, rows) + y, "converted": y}
    )
    return from_frame(frame, "converted", source="crm.csv")


def test_a_field_with_a_very_high_information_value_is_warned_about() -> None:
    data = _strong()
    assert single_feature_auc(data.frame["tag"], data.outcome) < LEAKY_AUC
    result = learn(data, Options(folds=0))
    ivs = {f.field: f.bins.iv for f in result.card.features}
    assert ivs["tag"] > SUSPICIOUS_IV > ivs["visits"]
    assert [f.field for f in result.suspicious] == ["tag"]
    warning = next(w for w in result.warnings if "POSSIBLE LEAKAGE" in w)
    assert f"tag (IV {ivs['tag']:.2f})" in warning
    assert "visits" not in warning
    assert f"WARNING: {warning}" in learn_text(result)
    assert "WARNING: POSSIBLE LEAKAGE" in learn_html(result)
