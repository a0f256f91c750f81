"""mql_until for many leads at once: the instant each MQL's score falls below the
threshold if nothing else happens, from the state the engine computed.

The score after ``at`` is fit + sum_g clamp_g(P_g(at) r_g(t) + N_g) (then the total
cap), with r_g the decay still to come. It never rises, so the instant is found by
bisection on all MQLs together: vectorised numpy, no per-lead loop.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from mql.batch.compiler import DecayParams, decay_params, group_columns
from mql.model.schema import Model

Floats = npt.NDArray[np.float64]

#: A first step of one day past the longest grace; doubled until the score is below.
FIRST_STEP_SECONDS = 86_400.0
MAX_DOUBLINGS = 80
#: 2**-64 of the bracket is far below a microsecond for any realistic span.
BISECTION_STEPS = 64
#: Past the year 9999 no timestamp type can hold the instant: reported as none.
HORIZON_SECONDS = 253_402_300_799.0 - 2 * 86_400.0


def _remaining(p: DecayParams, last: Floats, at: float | Floats, t: Floats) -> Floats:
    done = np.maximum(0.0, at - last - p.grace)
    total = np.maximum(0.0, t - last - p.grace)
    return np.exp(-p.lam * (total - done))


def _clamp(value: Floats, floor: float | None, cap: float | None) -> Floats:
    if floor is not None:
        value = np.maximum(value, floor)
    if cap is not None:
        value = np.minimum(value, cap)
    return value


def score_after(
    model: Model, state: Mapping[str, Floats], at: float | Floats, t: Floats
) -> Floats:
    """The score at instants ``t`` >= ``at`` with no new activity (vectorised)."""
    params = decay_params(model)
    score = np.array(state["fit"], dtype=np.float64, copy=True)
    for group in model.groups:
        p_col, n_col, _ = group_columns(group.id)
        decayed = state[p_col] * _remaining(params[group.id], state["last_ts"], at, t)
        score += _clamp(decayed + state[n_col], group.floor, group.cap)
    if model.total_cap is not None:
        score = np.minimum(score, model.total_cap)
    return score


def _limit(model: Model, state: Mapping[str, Floats]) -> Floats:
    """The score long after the last activity: what fit, penalties and no-decay hold."""
    far = np.full(len(state["fit"]), np.inf)
    params = decay_params(model)
    limit = np.array(state["fit"], dtype=np.float64, copy=True)
    for group in model.groups:
        p_col, n_col, _ = group_columns(group.id)
        kept = state[p_col] if params[group.id].lam == 0 else np.zeros_like(far)
        limit += _clamp(kept + state[n_col], group.floor, group.cap)
    if model.total_cap is not None:
        limit = np.minimum(limit, model.total_cap)
    return limit


def mql_until(
    model: Model,
    state: Mapping[str, Floats],
    mql: npt.NDArray[np.bool_],
    at: float | Floats,
) -> Floats:
    """Per lead, epoch seconds of inf{t >= at: score(t) < threshold}; NaN for none.

    ``state`` holds the arrays ``fit``, ``last_ts`` and each group's ``p_``/``n_``
    columns read at ``at`` (one instant, or one per lead); ``mql`` says which
    leads are MQLs then.
    """
    result = np.full(len(mql), np.nan)
    todo = np.flatnonzero(mql & (_limit(model, state) < model.threshold))
    if todo.size == 0:
        return result
    sub = {name: np.asarray(values)[todo] for name, values in state.items()}
    at = np.broadcast_to(np.asarray(at, dtype=np.float64), mql.shape)[todo]
    until = _crossing(model, sub, at)
    if until is None:
        until = _bracketed(model, sub, at)
    else:
        # Where rounding left the crossing unbracketed, search for it instead.
        missed = np.isnan(until)
        if missed.any():
            picked = {name: values[missed] for name, values in sub.items()}
            until[missed] = _bracketed(model, picked, at[missed])
    result[todo] = np.where(until > HORIZON_SECONDS, np.nan, until)
    return result


def _crossing(model: Model, sub: Mapping[str, Floats], at: Floats) -> Floats | None:
    """The instants by closed form when every group decays alike (None otherwise);
    NaN for a lead whose crossing the candidates do not bracket.

    With one decay, r(t) = exp(-lambda (t - last - grace - done)) (1 through the
    grace) scales every group's positive points at once, and the score before the
    total cap (which is at least the threshold, so never decides) is
    fit + sum_g clamp_g(P_g r + N_g): piecewise linear and non-decreasing in r,
    with its bends where a group meets its floor or cap. The smallest r whose
    score reaches the threshold lies on a straight piece between two bends: found
    there, then turned into the instant.
    """
    params = set(decay_params(model).values())
    if len(params) != 1:
        return None
    (p,) = params
    if p.lam <= 0:
        return None
    count = len(at)
    pos = [sub[group_columns(g.id)[0]] for g in model.groups]
    neg = [sub[group_columns(g.id)[1]] for g in model.groups]
    bends = [np.zeros(count), np.ones(count)]
    for group, p_g, n_g in zip(model.groups, pos, neg, strict=True):
        for bound in (group.floor, group.cap):
            if bound is not None:
                safe = np.where(p_g > 0, p_g, 1.0)
                # Tiny points put the bend far past 1 (even at infinity): clipped.
                with np.errstate(over="ignore"):
                    bends.append(np.where(p_g > 0, (bound - n_g) / safe, 0.0))
    r = np.sort(np.clip(np.stack(bends), 0.0, 1.0), axis=0)
    score = np.broadcast_to(sub["fit"], r.shape).copy()
    for group, p_g, n_g in zip(model.groups, pos, neg, strict=True):
        score += _clamp(p_g * r + n_g, group.floor, group.cap)
    reached = score >= model.threshold
    bracketed = reached[-1] & ~reached[0]
    hi = np.argmax(reached, axis=0)
    lo = np.maximum(hi - 1, 0)
    cols = np.arange(count)
    r_lo, r_hi = r[lo, cols], r[hi, cols]
    # The piece's own line, score = base + slope r, from which groups are clamped
    # inside it (read at its middle, away from the rounding at its ends).
    mid = (r_lo + r_hi) / 2
    base = np.array(sub["fit"], dtype=np.float64, copy=True)
    slope = np.zeros(count)
    for group, p_g, n_g in zip(model.groups, pos, neg, strict=True):
        value = p_g * mid + n_g
        free = np.ones(count, dtype=bool)
        for bound, held in ((group.floor, np.less), (group.cap, np.greater)):
            if bound is not None:
                clamped = held(value, bound)
                base += np.where(clamped, bound, 0.0)
                free &= ~clamped
        base += np.where(free, n_g, 0.0)
        slope += np.where(free, p_g, 0.0)
    safe = np.where(slope > 0, slope, 1.0)
    crossing = np.where(
        slope > 0, np.clip((model.threshold - base) / safe, r_lo, r_hi), r_lo
    )
    done = np.maximum(0.0, at - sub["last_ts"] - p.grace)
    with np.errstate(divide="ignore"):
        decay_time = -np.log(crossing) / p.lam
    until = sub["last_ts"] + p.grace + done + decay_time
    found: Floats = np.where(bracketed & (crossing > 0), until, np.nan)
    return found


def _bracketed(model: Model, sub: Mapping[str, Floats], at: Floats) -> Floats:
    """The instants by doubling a step until the score is below, then bisection."""
    grace = max((p.grace for p in decay_params(model).values()), default=0.0)
    lo = at.copy()
    step = np.full(at.size, grace + FIRST_STEP_SECONDS)
    hi = np.maximum(sub["last_ts"], at) + step
    for _ in range(MAX_DOUBLINGS):
        above = score_after(model, sub, at, hi) >= model.threshold
        if not above.any():
            break
        lo = np.where(above, hi, lo)
        step = np.where(above, step * 2, step)
        hi = np.where(above, hi + step, hi)
    for _ in range(BISECTION_STEPS):
        mid = (lo + hi) / 2
        above = score_after(model, sub, at, mid) >= model.threshold
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    return np.asarray(hi, dtype=np.float64)
