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
    grace = max((p.grace for p in decay_params(model).values()), default=0.0)
    lo = at.copy()
    step = np.full(todo.size, grace + FIRST_STEP_SECONDS)
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
    result[todo] = np.where(hi > HORIZON_SECONDS, np.nan, hi)
    return result
