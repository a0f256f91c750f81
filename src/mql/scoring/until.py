"""Reading a state at an offset from its last activity, and when an MQL lapses.

Between events every group's positive value only falls and nothing else moves, so
the score is continuous and non-increasing: the lapse is where it meets the
threshold. Closed form where no cap, floor or total cap binds and the decaying
groups share one decay; a bracketed search (regula falsi) otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from mql.scoring.compiled import Compiled, GroupSpec
from mql.scoring.state import LeadState

#: The search stops when the lapse is known to within this many seconds.
BISECTION_TOLERANCE_SECONDS = 1e-3
#: Secant steps tried before plain halving; far more than a smooth score needs.
_SECANT_STEPS = 40
#: Halving from a bracket of datetime's whole range to the tolerance needs < 60 steps.
_MAX_STEPS = _SECANT_STEPS + 80
#: Keep clear of datetime.max so that adding a time zone offset cannot overflow.
_HORIZON_MARGIN = timedelta(days=2)
_LATEST = datetime.max.replace(tzinfo=UTC) - _HORIZON_MARGIN


def total_at(
    prepared: Compiled, state: LeadState, span: float
) -> tuple[dict[str, float], float]:
    """Clamped group values and the score, ``span`` seconds after the last activity."""
    groups = {g.id: g.clamp(_raw(g, state, span)) for g in prepared.groups}
    total = math.fsum([state.fit, *groups.values()])
    cap = prepared.model.total_cap
    return groups, (min(cap, total) if cap is not None else total)


def lapse_instant(
    prepared: Compiled, state: LeadState, at: datetime
) -> datetime | None:
    """inf{t >= at : score(t) < threshold} for a lead that is an MQL at ``at``."""
    last = state.last_activity
    if last is None:
        return None
    curve = _Curve.of(prepared, state)
    if curve.limit() >= curve.threshold:
        return None
    start = (at - last).total_seconds()
    horizon = (_LATEST - last).total_seconds()
    span = curve.closed_form(start)
    if span is None:
        span = curve.search(start, horizon)
    if span is None or span > horizon:
        return None
    return last + timedelta(seconds=max(span, start))


def _raw(group: GroupSpec, state: LeadState, span: float) -> float:
    positive = state.positive.get(group.id, 0.0)
    if positive:
        positive *= group.factor(span)
    return positive + state.negative.get(group.id, 0.0)


@dataclass(frozen=True)
class _Curve:
    """A state's score as a function of the inactive span since its last activity.

    ``steady`` is the part that cannot move (fit, and groups with nothing left to
    decay); ``moving`` holds (group, positive value, penalties) for the others.
    """

    steady: float
    moving: tuple[tuple[GroupSpec, float, float], ...]
    total_cap: float | None
    threshold: float

    @classmethod
    def of(cls, prepared: Compiled, state: LeadState) -> _Curve:
        """The curve of one state under one prepared model."""
        steady = [state.fit]
        moving = []
        for g in prepared.groups:
            positive = state.positive.get(g.id, 0.0)
            negative = state.negative.get(g.id, 0.0)
            if g.decays and positive > 0.0:
                moving.append((g, positive, negative))
            else:
                steady.append(g.clamp(positive + negative))
        model = prepared.model
        return cls(math.fsum(steady), tuple(moving), model.total_cap, model.threshold)

    def unclamped(self, span: float) -> float:
        """The score before the total cap."""
        values = [self.steady]
        for group, positive, negative in self.moving:
            values.append(group.clamp(positive * group.factor(span) + negative))
        return math.fsum(values)

    def excess(self, span: float) -> float:
        """The score less the threshold."""
        total = self.unclamped(span)
        if self.total_cap is not None and total > self.total_cap:
            total = self.total_cap
        return total - self.threshold

    def limit(self) -> float:
        """The score after an endless inactive span: decaying values gone."""
        values = [self.steady, *(g.clamp(n) for g, _, n in self.moving)]
        total = math.fsum(values)
        return min(self.total_cap, total) if self.total_cap is not None else total

    def closed_form(self, start: float) -> float | None:
        """The lapse solved directly; None when a clamp binds or decays differ."""
        if not self.moving:
            return None
        if len({(g.base, g.period, g.grace) for g, _, _ in self.moving}) != 1:
            return None
        if any(
            g.cap is not None and p * g.factor(start) + n > g.cap
            for g, p, n in self.moving
        ):
            return None
        if self.total_cap is not None and self.unclamped(start) > self.total_cap:
            return None
        need = self.threshold - math.fsum(
            [self.steady, *(n for _, _, n in self.moving)]
        )
        positive = math.fsum(p for _, p, _ in self.moving)
        if need <= 0.0 or need > positive:
            return None
        first = self.moving[0][0]
        span = first.grace + first.period * math.log(need / positive) / math.log(
            first.base
        )
        if any(
            g.floor is not None and p * g.factor(span) + n < g.floor
            for g, p, n in self.moving
        ):
            return None
        return span

    def search(self, start: float, horizon: float) -> float | None:
        """The lapse by bracketing, then regula falsi (Illinois) to the tolerance.

        The score is continuous and non-increasing between events, so a bracket
        [low, high] with score(low) >= threshold > score(high) holds the lapse.
        Where no clamp changes inside the bracket the score is smooth and secant
        steps converge in a few evaluations; each step is kept half a tolerance
        inside the bracket, and plain halving takes over if progress stalls.
        """
        longest = max((g.grace + g.period for g, _, _ in self.moving), default=1.0)
        low, step = start, longest
        high = start + step
        f_low, f_high = self.excess(low), self.excess(high)
        while f_high >= 0.0:
            if high > horizon:
                return None
            low, f_low, step = high, f_high, step * 2.0
            high = start + step
            f_high = self.excess(high)
        return _refine(self.excess, low, high, f_low, f_high)


def _refine(
    excess: Callable[[float], float],
    low: float,
    high: float,
    f_low: float,
    f_high: float,
) -> float:
    """Shrink [low, high] (excess >= 0 at low, < 0 at high) to the tolerance."""
    tolerance = BISECTION_TOLERANCE_SECONDS
    side = 0
    for iteration in range(_MAX_STEPS):
        width = high - low
        if width <= tolerance:
            break
        if iteration < _SECANT_STEPS and f_low != f_high:
            guess = high - f_high * width / (f_high - f_low)
            guess = min(max(guess, low + tolerance / 2), high - tolerance / 2)
        else:
            guess = low + width / 2
        value = excess(guess)
        if value >= 0.0:
            low, f_low = guess, value
            if side > 0:
                f_high /= 2.0  # Illinois: the end kept twice counts for less
            side = 1
        else:
            high, f_high = guess, value
            if side < 0:
                f_low /= 2.0
            side = -1
    return high
