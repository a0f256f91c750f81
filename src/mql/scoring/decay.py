"""Decay of intent with a lead's inactivity: the constants both engines share.

With rate r per period P and grace G, an inactive span of s seconds keeps the share
d(s) = (1 - r) ** (max(0, s - G) / P) = exp(-lambda * max(0, s - G)) of a value,
lambda = -ln(1 - r) / P. The power form is used here because it is exact at whole
periods (80 points are 60.0 one quarter later, 45.0 two quarters later).
"""

from __future__ import annotations

import math

from mql.model.schema import Decay

SECONDS_PER_DAY = 86_400.0


def period_seconds(decay: Decay) -> float:
    """The decay period in seconds."""
    return decay.period_days * SECONDS_PER_DAY


def grace_seconds(decay: Decay) -> float:
    """The grace period in seconds."""
    return decay.grace_days * SECONDS_PER_DAY


def decay_lambda(decay: Decay) -> float:
    """The decay constant per second: -ln(1 - rate) / period (0 when rate is 0).

    >>> from mql.model import Decay
    >>> round(decay_lambda(Decay()) * 86_400 * 91.3125, 12)
    0.287682072452
    """
    return -math.log1p(-decay.rate) / period_seconds(decay)


def effective_span(decay: Decay, span_seconds: float) -> float:
    """The part of an inactive span that decays: the span less the grace, at least 0."""
    return max(0.0, span_seconds - grace_seconds(decay))


def decay_factor(decay: Decay, span_seconds: float) -> float:
    """The share of a value kept after ``span_seconds`` of inactivity.

    >>> from mql.model import Decay
    >>> 80 * decay_factor(Decay(), 91.3125 * 86_400)
    60.0
    >>> decay_factor(Decay(grace_days=30), 30 * 86_400)
    1.0
    """
    return factor_of_effective(decay, effective_span(decay, span_seconds))


def factor_of_effective(decay: Decay, effective_seconds: float) -> float:
    """The share kept after ``effective_seconds`` of decaying time (grace removed)."""
    if effective_seconds <= 0.0 or decay.rate == 0.0:
        return 1.0
    return float((1.0 - decay.rate) ** (effective_seconds / period_seconds(decay)))
