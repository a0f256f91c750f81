"""Decay: rate per period, grace, per-group decay, the lead's own clock."""

from __future__ import annotations

import math

import pytest

from mql.model import Decay
from mql.scoring import decay_factor, decay_lambda, read, replay, score

from ._support import QUARTER_DAYS, day, ev, intent_model, model

DAY = 86_400.0
ONE_RULE = "{id: fees, event: view, points: 80, group: web, repeat: every}"


@pytest.mark.parametrize(
    ("extra", "days", "expected"),
    [
        ("", 0, 80.0),
        ("", QUARTER_DAYS, 60.0),
        ("", 2 * QUARTER_DAYS, 45.0),
        ("decay: {grace_days: 30}", 30, 80.0),
        ("decay: {grace_days: 30}", 30 + QUARTER_DAYS, 60.0),
        ("decay: {rate: 0.5, period_days: 30}", 30, 40.0),
        ("decay: {rate: 0.5, period_days: 30}", 60, 20.0),
        ("decay: {rate: 0}", 10_000, 80.0),
    ],
)
def test_one_event_decays_by_hand(extra: str, days: float, expected: float):
    m = intent_model(ONE_RULE, extra=extra)
    events = [ev("a", "view", 0)]
    assert score(m, {}, events, day(days)).score == expected
    assert read(m, replay(m, {}, events), day(days)).score == expected


def test_decay_factor_and_lambda_agree():
    decay = Decay(rate=0.25, period_days=QUARTER_DAYS, grace_days=7)
    lam = decay_lambda(decay)
    assert lam == pytest.approx(-math.log(0.75) / (QUARTER_DAYS * DAY), rel=1e-15)
    for span_days in (0, 3, 7, 8, 50, 400):
        expected = math.exp(-lam * max(0.0, (span_days - 7) * DAY))
        assert decay_factor(decay, span_days * DAY) == pytest.approx(expected, 1e-13)


def test_activity_restarts_the_clock_for_every_group_under_grace():
    """With grace each gap loses only what exceeds it: gaps of 20 days, grace 30."""
    m = model(
        """
        name: t
        threshold: 50
        decay: {grace_days: 30}
        groups: [{id: web}, {id: email}]
        intent:
          - {id: fees, event: view, points: 80, group: web, repeat: every}
          - {id: click, event: click, points: 1, group: email, repeat: every}
        """
    )
    events = [ev("a", "view", 0), ev("b", "click", 20)]
    assert score(m, {}, events, day(40)).groups["web"] == 80.0
    at = day(50 + QUARTER_DAYS)
    assert score(m, {}, events, at).groups["web"] == pytest.approx(60.0, rel=1e-12)


def test_group_decay_overrides_the_model_decay():
    m = model(
        """
        name: t
        threshold: 50
        groups:
          - {id: web}
          - {id: referral, decay: {rate: 0.1, period_days: 365.25}}
        intent:
          - {id: fees, event: view, points: 80, group: web, repeat: every}
          - {id: intro, event: referral, points: 50, group: referral, repeat: once}
        """
    )
    result = score(m, {}, [ev("a", "view", 0), ev("b", "referral", 0)], day(365.25))
    assert result.groups["web"] == pytest.approx(80 * 0.75**4, rel=1e-12)
    assert result.groups["referral"] == pytest.approx(45.0, rel=1e-12)
