"""The scoring model compiled to one Ibis expression: every lead's state at an
instant, the same on DuckDB, PostgreSQL and Spark.

The expression follows docs/scoring.md. Per lead it gives fit, the grade, the
first disqualifier, and per group ``p_<g>`` (positive points decayed to the
instant), ``n_<g>`` (the plain sum of negative points) and ``v_<g>`` (the clamped
value), then intent, score and the MQL flag. ``mql_until`` is computed from the
same state in :mod:`mql.batch.until`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from mql.batch.conditions import Text, conditions, engine_of, prepare, trim
from mql.batch.layout import (
    EVENT_CORE,
    LEAD_CORE,
    LEAD_KEY,
    column_map,
    event_properties,
)
from mql.model.schema import GRADES, Decay, IntentRule, Model

SECONDS_PER_DAY = 86_400.0
#: exp(-700) is about 1e-304, still a normal double (the smallest is about 2e-308).
MIN_EXPONENT = -700.0


@dataclass(frozen=True)
class DecayParams:
    """One decay setting in engine units: per-second rate and grace in seconds."""

    lam: float
    grace: float

    @classmethod
    def of(cls, decay: Decay) -> DecayParams:
        """The engine form of a model decay."""
        lam = -math.log1p(-decay.rate) / (decay.period_days * SECONDS_PER_DAY)
        return cls(lam=lam, grace=decay.grace_days * SECONDS_PER_DAY)


def flt(value: float) -> ir.FloatingValue:
    """A float64 literal that every engine reads as a double.

    PostgreSQL and Spark read a bare ``0.5`` as an exact decimal; a cast from its
    shortest text keeps the value and the type.
    """
    return ibis.literal(repr(float(value))).cast("float64")


def decay_exp(exponent: ir.FloatingValue) -> ir.FloatingValue:
    """exp() of a decay exponent, kept above MIN_EXPONENT.

    PostgreSQL raises an error where exp() underflows; the others return 0. Below
    the bound the factor is under 1e-304 on every engine, which no score can see.
    """
    return ibis.greatest(exponent, flt(MIN_EXPONENT)).exp()


def group_columns(group_id: str) -> tuple[str, str, str]:
    """The state columns of a group: decayed positive, negative sum, clamped value."""
    return f"p_{group_id}", f"n_{group_id}", f"v_{group_id}"


def decay_params(model: Model) -> dict[str, DecayParams]:
    """The engine decay of each group, by group id."""
    return {g.id: DecayParams.of(model.decay_of(g.id)) for g in model.groups}


def _window(
    events: ir.Table, by: list[ir.Value] | None = None, ordered: bool = True
) -> ibis.expr.builders.LegacyWindowBuilder:
    group_by = [events[LEAD_KEY], *(by or [])]
    if not ordered:
        return ibis.window(group_by=group_by)
    return ibis.cumulative_window(
        group_by=group_by, order_by=[events["ts"], events["id"]]
    )


def _deduplicated(model: Model, events: ir.Table) -> ir.Table:
    """One row per (lead, id): the earliest copy, then the one whose type and
    model-read properties (by name, missing first) sort first (docs/scoring.md)."""
    content = [
        ibis.asc(events[name].cast("string"), nulls_first=True)
        for name in event_properties(model)
        if name in events.columns
    ]
    first = ibis.row_number().over(
        group_by=[events[LEAD_KEY], events["id"]],
        order_by=[events["ts"], events["type"], *content],
    )
    return events.mutate(_dup=first).filter(lambda t: t._dup == 0).drop("_dup")


def _matches(model: Model, combos: ir.Table, columns: dict[str, str]) -> ir.Table:
    """The combinations that match an intent rule, with their type and
    ``columns`` (property to column), the flags ``m<k>`` and the keys ``key<k>``."""
    fields = [field for rule in model.intent for field in rule.where]
    combos, texts = prepare(combos, fields, columns)
    flags: dict[str, ir.BooleanValue] = {}
    for k, rule in enumerate(model.intent):
        is_type = combos["type"].isin(list(rule.event))
        # CASE rather than AND: engines then test the text only for that type.
        where = conditions(dict(rule.where), texts) if rule.where else None
        flags[f"m{k}"] = (
            ibis.ifelse(is_type, where, False) if where is not None else is_type
        )
    activity = ibis.or_(*flags.values()) if flags else ibis.literal(False)
    keys = {
        f"key{k}": _key_value(combos, rule, columns)
        for k, rule in enumerate(model.intent)
        if rule.repeat.mode == "once_per"
    }
    # Only what the later steps read: a narrow table is cheap to share.
    carried = ["type", *columns.values()]
    return combos.select(*carried, **flags, **keys).filter(activity)


def _matches_by_value(model: Model, events: ir.Table) -> ir.Table:
    """The flags and keys of :func:`_matches`, computed once per distinct
    combination of the event type and the properties the model reads.

    A site has a few thousand distinct pages against millions of views: the text
    tests run on the small table of combinations, which an inner join brings
    back to the events (combinations that match no rule drop out there). Every
    condition and key reads a null property as empty text, so null becomes ``''``
    in the join key, which then never compares nulls.
    """
    present = column_map(events.columns, reserved=EVENT_CORE)
    read = [name for name in event_properties(model) if name in present]
    slots = {name: f"_v{i}" for i, name in enumerate(read)}
    coded = events.mutate(
        **{
            slot: events[present[name]].cast("string").fill_null("")
            for name, slot in slots.items()
        }
    )
    combos = coded.select("type", *slots.values()).distinct()
    matched = _matches(model, combos, slots)
    flags = [c for c in matched.columns if c not in ("type", *slots.values())]
    joined = coded.select(LEAD_KEY, "id", "ts", "type", *slots.values()).join(
        matched, ["type", *slots.values()]
    )
    return joined.select(LEAD_KEY, "id", "ts", *flags)


def _key_value(
    events: ir.Table, rule: IntentRule, columns: dict[str, str]
) -> ir.StringValue:
    column = columns.get(rule.repeat.key or "")
    if column is None:
        return ibis.literal(None, type="string")
    key = trim(events[column].cast("string"), engine_of(events)).lower()
    return ibis.cases((key == "", ibis.null("string")), else_=key)


def _contribution(
    model: Model,
    rules: list[tuple[IntentRule, ir.BooleanValue]],
    weights: dict[str, ir.FloatingValue],
) -> dict[str, ir.NumericValue]:
    """Per group, decayed positive points (``pw_``) and negative points (``pn_``)."""
    out: dict[str, ir.NumericValue] = {}
    for group in model.groups:
        pos: ir.NumericValue = flt(0.0)
        neg: ir.NumericValue = flt(0.0)
        for rule, fired in rules:
            if rule.group != group.id or rule.points == 0:
                continue
            gain = ibis.ifelse(fired, flt(rule.points), flt(0.0))
            if rule.points > 0:
                pos = pos + gain
            else:
                neg = neg + gain
        out[f"pw_{group.id}"] = pos * weights[group.id]
        out[f"pn_{group.id}"] = neg
    return out


def _every_rows(
    model: Model, acts: ir.Table, weights: dict[str, str], firsts: list[int]
) -> ir.Table:
    """One row per activity with the points of its ``every`` rules, and for the
    ``once`` rules in ``firsts`` the time of the match (null otherwise)."""
    rules = [
        (rule, acts[f"m{k}"])
        for k, rule in enumerate(model.intent)
        if rule.repeat.mode == "every"
    ]
    by_group = {g: acts[w] for g, w in weights.items()}
    times = {
        f"first{k}": ibis.ifelse(acts[f"m{k}"], acts["ts"], ibis.null("float64"))
        for k in firsts
    }
    return acts.select(
        LEAD_KEY,
        "ts",
        act=ibis.literal(1),
        **_contribution(model, rules, by_group),
        **times,
    )


def _repeat_rows(
    model: Model,
    k: int,
    rule: IntentRule,
    acts: ir.Table,
    weights: dict[str, str],
    firsts: list[int],
) -> ir.Table:
    """The activities where a once / once_per / min_count rule fires.

    Ranked among that rule's matches only (per lead, and per key for once_per) in
    (at, id) order, so each window sorts a small part of the activity.
    """
    matched = acts.filter(acts[f"m{k}"])
    keyed = rule.repeat.mode == "once_per"
    if keyed:
        matched = matched.filter(matched[f"key{k}"].notnull())
    partition = [matched[LEAD_KEY], *([matched[f"key{k}"]] if keyed else [])]
    nth = rule.repeat.count if rule.repeat.mode == "min_count" else 1
    rank = ibis.row_number().over(
        group_by=partition, order_by=[matched["ts"], matched["id"]]
    )
    fired = matched.mutate(_rank=rank).filter(lambda t: t._rank == (nth or 1) - 1)
    by_group = {g: fired[w] for g, w in weights.items()}
    return fired.select(
        LEAD_KEY,
        "ts",
        act=ibis.literal(0),
        **_contribution(model, [(rule, ibis.literal(True))], by_group),
        **{f"first{j}": ibis.null("float64") for j in firsts},
    )


def _weights(
    model: Model, acts: ir.Table, at: float, at_last: bool
) -> tuple[ir.Table, dict[DecayParams, str]]:
    """Per activity and decay setting, the factor that brings its points to ``at``
    (or, with ``at_last``, to the lead's last activity).

    Without grace the factor is exp(-lambda (at - t_i)). With grace each gap
    between consecutive activities decays by d(gap): the factor is
    exp(L_i - L_n) times the decay since the last activity, L a running sum.
    """
    params = sorted(set(decay_params(model).values()), key=lambda p: (p.lam, p.grace))
    names = {p: f"w{j}" for j, p in enumerate(params)}
    if at_last:
        acts = acts.mutate(_last=acts["ts"].max().over(_window(acts, ordered=False)))
    if all(p.grace == 0 for p in params):
        until = acts["_last"] if at_last else flt(at)
        return acts.mutate(
            **{names[p]: decay_exp(flt(-p.lam) * (until - acts["ts"])) for p in params}
        ), names
    previous = acts["ts"].lag().over(_window(acts))
    acts = acts.mutate(_gap=(acts["ts"] - previous).fill_null(flt(0.0)))
    if not at_last:
        acts = acts.mutate(_last=acts["ts"].max().over(_window(acts, ordered=False)))
    steps = {
        f"s{j}": flt(p.lam) * ibis.greatest(acts["_gap"] - flt(p.grace), flt(0.0))
        for j, p in enumerate(params)
    }
    acts = acts.mutate(**steps)
    logs = {}
    for j, p in enumerate(params):
        step = acts[f"s{j}"]
        running = step.sum().over(_window(acts))
        total = step.sum().over(_window(acts, ordered=False))
        since = flt(p.lam) * ibis.greatest(
            flt(at) - acts["_last"] - flt(p.grace), flt(0.0)
        )
        logs[names[p]] = decay_exp(running - total - (flt(0.0) if at_last else since))
    return acts.mutate(**logs), names


def activities(model: Model, events: ir.Table, at: float, dedupe: bool) -> ir.Table:
    """The events up to ``at`` (one per id) that match an intent rule, with flags
    ``m<k>`` (matches rule k) and ``key<k>`` (its once_per value)."""
    events = events.filter(events["ts"] <= flt(at))
    if dedupe:
        events = _deduplicated(model, events)
    return _matches_by_value(model, events)


def event_state(
    model: Model, events: ir.Table, at: float, dedupe: bool, at_last: bool = False
) -> ir.Table:
    """Per lead with activity up to ``at``: decayed positives, negatives, last time."""
    acts = activities(model, events, at, dedupe)
    acts, weight_of = _weights(model, acts, at, at_last)
    params = decay_params(model)
    weights = {g.id: weight_of[params[g.id]] for g in model.groups}
    firsts = _firsts(model, at_last)
    parts = [_every_rows(model, acts, weights, firsts)]
    for k, rule in enumerate(model.intent):
        if rule.repeat.mode == "every" or k in firsts:
            continue
        if rule.repeat.mode == "once_per" and _memoryless(model, at_last):
            parts.append(_first_per_key_rows(model, k, rule, acts, at, firsts))
        else:
            parts.append(_repeat_rows(model, k, rule, acts, weights, firsts))
    rows = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
    aggs: dict[str, ir.Value] = {
        "last_ts": rows["ts"].max(),
        "activities": rows["act"].sum(),
    }
    aggs |= {f"first{k}": rows[f"first{k}"].min() for k in firsts}
    for group in model.groups:
        p_col, n_col, _ = group_columns(group.id)
        aggs[p_col] = rows[f"pw_{group.id}"].sum()
        aggs[n_col] = rows[f"pn_{group.id}"].sum()
    state = rows.group_by(LEAD_KEY).aggregate(**aggs)
    return _add_firsts(model, state, firsts, at) if firsts else state


def _memoryless(model: Model, at_last: bool) -> bool:
    """Whether a point's decay at ``at`` depends on its own time alone (no grace,
    read at one instant for all leads)."""
    return not at_last and all(p.grace == 0 for p in decay_params(model).values())


def _firsts(model: Model, at_last: bool) -> list[int]:
    """The ``once`` rules scored from the time of their first match alone.

    When decay is memoryless a once rule needs the first match's time (a min in
    the final group-by), not a ranking window.
    """
    if not _memoryless(model, at_last):
        return []
    return [k for k, r in enumerate(model.intent) if r.repeat.mode == "once"]


def _first_per_key_rows(
    model: Model,
    k: int,
    rule: IntentRule,
    acts: ir.Table,
    at: float,
    firsts: list[int],
) -> ir.Table:
    """A once_per rule's points from the first match of each (lead, key): a
    group-by, where the general path ranks the matches with a window."""
    key = f"key{k}"
    matched = acts.filter(acts[f"m{k}"] & acts[key].notnull())
    first = matched.group_by([LEAD_KEY, key]).aggregate(ts=matched["ts"].min())
    params = decay_params(model)
    weights = {
        g.id: decay_exp(flt(-params[g.id].lam) * (flt(at) - first["ts"]))
        for g in model.groups
    }
    return first.select(
        LEAD_KEY,
        "ts",
        act=ibis.literal(0),
        **_contribution(model, [(rule, ibis.literal(True))], weights),
        **{f"first{j}": ibis.null("float64") for j in firsts},
    )


def _add_firsts(
    model: Model, state: ir.Table, firsts: list[int], at: float
) -> ir.Table:
    params = decay_params(model)
    sums: dict[str, ir.NumericValue] = {}
    for group in model.groups:
        p_col, n_col, _ = group_columns(group.id)
        pos, neg = state[p_col], state[n_col]
        lam = params[group.id].lam
        for k in firsts:
            rule, first = model.intent[k], state[f"first{k}"]
            if rule.group != group.id or rule.points == 0:
                continue
            if rule.points > 0:
                decayed = flt(rule.points) * decay_exp(flt(-lam) * (flt(at) - first))
                pos = pos + ibis.ifelse(first.notnull(), decayed, flt(0.0))
            else:
                neg = neg + ibis.ifelse(first.notnull(), flt(rule.points), flt(0.0))
        sums[p_col], sums[n_col] = pos, neg
    return state.mutate(**sums).drop(*[f"first{k}" for k in firsts])


def _fit(model: Model, texts: dict[str, Text]) -> ir.NumericValue:
    total: ir.NumericValue = flt(0.0)
    for rule in model.fit:
        holds = conditions(dict(rule.when), texts)
        total = total + ibis.ifelse(holds, flt(rule.points), flt(0.0))
    return total


def _first_disqualifier(
    model: Model, texts: dict[str, Text]
) -> tuple[ir.StringValue, ir.StringValue]:
    if not model.disqualifiers:
        none = ibis.literal(None, type="string")
        return none, none
    tests = [(conditions(dict(d.when), texts), d) for d in model.disqualifiers]
    rule = ibis.cases(*[(t, d.id) for t, d in tests], else_=ibis.null("string"))
    reason = ibis.cases(*[(t, d.reason) for t, d in tests], else_=ibis.null("string"))
    return rule, reason


def _grade(model: Model, fit: ir.NumericValue) -> ir.StringValue:
    bands = model.grades
    return ibis.cases(
        (fit >= bands.A, "A"), (fit >= bands.B, "B"), (fit >= bands.C, "C"), else_="D"
    )


def _grade_ok(model: Model, fit: ir.NumericValue) -> ir.BooleanValue:
    if model.min_grade is None or model.min_grade == GRADES[-1]:
        return ibis.literal(True)
    return fit >= getattr(model.grades, model.min_grade)


def lead_profile(model: Model, leads: ir.Table) -> ir.Table:
    """Per lead: fit, grade and the first disqualifier (rule and reason)."""
    columns = column_map(leads.columns, reserved=LEAD_CORE)
    rules = [*model.fit, *model.disqualifiers]
    leads, texts = prepare(leads, [f for r in rules for f in r.when], columns)
    rule, reason = _first_disqualifier(model, texts)
    fit = _fit(model, texts)
    return leads.select(
        leads[LEAD_KEY], fit=fit, disqualified_by=rule, disqualified_reason=reason
    )


def compile_state(
    model: Model,
    events: ir.Table,
    leads: ir.Table,
    at: float,
    dedupe: bool = True,
    at_last_activity: bool = False,
) -> ir.Table:
    """The expression giving every lead's state and score at ``at`` (epoch seconds).

    ``events`` and ``leads`` follow the layout of :mod:`mql.batch.layout`. Set
    ``dedupe=False`` only when event ids are known to be unique per lead. With
    ``at_last_activity`` the events up to ``at`` count, but each lead is read at
    its own last activity (what the store keeps).
    """
    profile = lead_profile(model, leads)
    state = event_state(model, events, at, dedupe, at_last_activity)
    joined = profile.left_join(state, LEAD_KEY).drop(f"{LEAD_KEY}_right")
    filled = {
        col: joined[col].fill_null(flt(0.0))
        for g in model.groups
        for col in group_columns(g.id)[:2]
    }
    joined = joined.mutate(activities=joined["activities"].fill_null(0), **filled)
    return _scored(model, joined.mutate(**_group_values(model, joined)))


def _group_values(model: Model, table: ir.Table) -> dict[str, ir.NumericValue]:
    """Each group's value when read: min(cap, max(floor, positive + negative))."""
    values = {}
    for group in model.groups:
        p_col, n_col, v_col = group_columns(group.id)
        value = table[p_col] + table[n_col]
        if group.floor is not None:
            value = ibis.greatest(value, flt(group.floor))
        if group.cap is not None:
            value = ibis.least(value, flt(group.cap))
        values[v_col] = value
    return values


def _scored(model: Model, table: ir.Table) -> ir.Table:
    """Intent, score (under the total cap), grade and the MQL decision."""
    intent: ir.NumericValue = flt(0.0)
    for group in model.groups:
        intent = intent + table[group_columns(group.id)[2]]
    score = table["fit"] + intent
    if model.total_cap is not None:
        score = ibis.least(score, flt(model.total_cap))
    mql = (
        table["disqualified_by"].isnull()
        & (score >= model.threshold)
        & _grade_ok(model, table["fit"])
    )
    table = table.mutate(
        grade=_grade(model, table["fit"]), intent=intent, score=score, mql=mql
    )
    return table.mutate(**_as_floats(model, table))


def _as_floats(model: Model, table: ir.Table) -> dict[str, ir.Value]:
    """Numbers as float64 everywhere (PostgreSQL reads bare literals as numeric)."""
    names = ["fit", "last_ts", "intent", "score"]
    names += [c for g in model.groups for c in group_columns(g.id)]
    return {name: table[name].cast("float64") for name in names}


def repeat_counters(
    model: Model, events: ir.Table, at: float, dedupe: bool = True
) -> ir.Table:
    """Per lead, what the per-lead engine's state remembers of the repeat modes.

    ``once<k>`` (1 when once-rule k has matched), ``count<k>`` (min_count rule
    k's matches, at most N), ``keys<k>`` (the once_per values seen) and
    ``last_event_id`` (the id of the last activity in (at, id) order).
    """
    acts = activities(model, events, at, dedupe)
    aggs: dict[str, ir.Value] = {"last_ts": acts["ts"].max()}
    for k, rule in enumerate(model.intent):
        hit = ibis.ifelse(acts[f"m{k}"], 1, 0)
        if rule.repeat.mode == "once":
            aggs[f"once{k}"] = hit.max()
        elif rule.repeat.mode == "min_count":
            aggs[f"count{k}"] = hit.sum()
        elif rule.repeat.mode == "once_per":
            keyed = acts[f"m{k}"] & acts[f"key{k}"].notnull()
            aggs[f"keys{k}"] = acts[f"key{k}"].collect(where=keyed)
    counters = acts.group_by(LEAD_KEY).aggregate(**aggs)
    last = acts.join(counters.select(LEAD_KEY, "last_ts"), LEAD_KEY)
    last = last.filter(last["ts"] == last["last_ts"])
    ids = last.group_by(LEAD_KEY).aggregate(last_event_id=last["id"].max())
    return counters.join(ids, LEAD_KEY).drop("last_ts")


def fit_rules_holding(model: Model, leads: ir.Table) -> ir.Table:
    """Per lead, ``fit<i>``: whether fit rule i holds."""
    columns = column_map(leads.columns, reserved=LEAD_CORE)
    fields = [f for r in model.fit for f in r.when]
    leads, texts = prepare(leads, fields, columns)
    flags = {
        f"fit{i}": conditions(dict(r.when), texts) for i, r in enumerate(model.fit)
    }
    return leads.select(LEAD_KEY, **flags)
