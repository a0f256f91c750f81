"""The leakage guard: features that give the outcome away are refused.

Two kinds: fields declared as filled in after a sales contact (they record what
the contact found, so they are not known when an MQL is decided), and fields
that alone separate converters from the rest almost perfectly (ROC AUC above
:data:`LEAKY_AUC`), which in lead data nearly always means the same thing.
A third kind is warned about, not refused: a field kept in the model whose
information value is above :data:`SUSPICIOUS_IV`. Siddiqi's rule of thumb calls
a scorecard characteristic above 0.5 too good to be true, but in lead data strong
honest fields reach 1.0 to 1.7 (X Education's time on the website 1.08, and its
occupation 1.69 on the first 3,000 leads; bank-full's call period 1.27), while a
field that sales fills in after contact goes far beyond (``Tags`` 4.35) without
ranking above the AUC line alone. ``Lead Quality`` (1.89) stays under the line:
declare such fields with ``post_contact``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from mql.errors import InputError
from mql.learn.binning import FeatureBins
from mql.learn.data import LeadData, field_name

logger = logging.getLogger(__name__)

#: A single feature ranking leads better than this is taken for leakage. The best
#: honest single feature of the public lead data sets stays near 0.8.
LEAKY_AUC = 0.95
#: Numbers are cut in this many quantile bands for the single-feature check.
NUMERIC_BANDS = 20
#: Pseudo-leads at the base rate added to each value's rate, so that rare values
#: with a lucky rate do not look like leakage.
PRIOR_LEADS = 10
#: A kept feature above this information value is warned about as possible
#: leakage: above the strong honest fields of the public lead data sets, below
#: the post-contact ones (see the module docstring).
SUSPICIOUS_IV = 2.0


@dataclass(frozen=True)
class Finding:
    """A feature the guard refuses, and why."""

    field: str
    reason: str
    auc: float | None = None
    iv: float | None = None


def find_leaks(data: LeadData) -> list[Finding]:
    """Every feature that is declared post-contact or predicts the outcome alone."""
    findings = [
        Finding(name, "declared as filled in after sales contact")
        for name in data.features
        if name in data.post_contact
    ]
    for name in data.features:
        if name in data.post_contact:
            continue
        auc = single_feature_auc(data.frame[name], data.outcome)
        if auc > LEAKY_AUC:
            findings.append(
                Finding(name, f"alone it ranks leads with ROC AUC {auc:.3f}", auc)
            )
    return findings


def guard(data: LeadData, allow: bool = False) -> list[Finding]:
    """Refuse leaky features (InputError), or with ``allow`` warn and go on."""
    findings = find_leaks(data)
    if not findings:
        return []
    listed = "; ".join(f"{f.field}: {f.reason}" for f in findings)
    if not allow:
        names = " ".join(f"--exclude {field_name(f.field)}" for f in findings)
        raise InputError(
            f"{data.source}: features that would leak the outcome: {listed}. "
            f"Leave them out ({names}), or pass --allow-leaky to keep them "
            "knowing the figures will overstate what the model can do"
        )
    # The caller's report shows the findings returned; the log keeps a note.
    logger.info("LEAKAGE: keeping features that give the outcome away: %s", listed)
    return findings


def suspicious(bins: Sequence[FeatureBins]) -> list[Finding]:
    """Kept features whose information value is above :data:`SUSPICIOUS_IV`,
    strongest first."""
    found = [b for b in bins if b.iv > SUSPICIOUS_IV]
    return [
        Finding(b.field, f"information value {b.iv:.2f}", iv=b.iv)
        for b in sorted(found, key=lambda b: -b.iv)
    ]


def suspicious_warning(findings: Sequence[Finding]) -> str:
    """One loud warning naming every suspicious feature and its information value."""
    listed = ", ".join(f"{f.field} (IV {f.iv:.2f})" for f in findings)
    return (
        f"POSSIBLE LEAKAGE: information value above {SUSPICIOUS_IV:g} (beyond what "
        f"honest lead fields reach): {listed}. Check that each is known before "
        "sales contact; a field filled in after contact (by sales, or from what "
        "the contact found) must be left out (--exclude FIELD) or declared "
        "(--post-contact FIELD)"
    )


def single_feature_auc(column: pd.Series[Any], outcome: np.ndarray[Any, Any]) -> float:
    """ROC AUC of a feature alone: each value (or band) scored by its smoothed rate."""
    if pd.api.types.is_numeric_dtype(column):
        column = pd.qcut(column, NUMERIC_BANDS, duplicates="drop")
    labels = [
        "<missing>" if pd.isna(v) else str(v) for v in column.astype(object).tolist()
    ]
    values = pd.Series(labels, dtype=object)
    frame = pd.DataFrame({"value": values.to_numpy(), "y": outcome})
    base = float(outcome.mean())
    grouped = frame.groupby("value")["y"].agg(["sum", "count"])
    rate = (grouped["sum"] + PRIOR_LEADS * base) / (grouped["count"] + PRIOR_LEADS)
    scores = frame["value"].map(rate).to_numpy(dtype=float)
    if np.all(scores == scores[0]):
        return 0.5
    auc = float(roc_auc_score(outcome, scores))
    return max(auc, 1 - auc)
