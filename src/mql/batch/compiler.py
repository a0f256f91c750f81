"""The scoring model compiled to one Ibis expression: every lead's state at an
instant, the same on DuckDB, PostgreSQL and Spark.

The expression follows docs/scoring.md. Per lead it gives fit, the grade, the
first disqualifier, and per group ``p_<g>`` (positive points decayed to the
instant), ``n_<g>`` (the plain sum of negative points) and ``v_<g>`` (the clamped
value), then intent, score and the MQL flag. ``mql_until`` is computed from the
same state in :mod:`mql.batch.until`.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Mapping, Sequence
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
    ``columns`` (property to column), the flags ``m<k>``, the keys ``key<k>`` and
    the points of the ``every`` rules (:func:`_every_points`)."""
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
    return combos.select(
        *carried, **flags, **keys, **_every_points(model, flags)
    ).filter(activity)


def _every_rules(model: Model) -> dict[str, list[IntentRule]]:
    """Per group, the ``every`` rules with positive points (column ``e_<g>``)
    and those with negative points (``en_<g>``); groups without any are left out."""
    out: dict[str, list[IntentRule]] = {}
    for group in model.groups:
        for name, sign in ((f"e_{group.id}", 1), (f"en_{group.id}", -1)):
            rules = [
                r
                for r in model.intent
                if r.repeat.mode == "every"
                and r.group == group.id
                and r.points * sign > 0
            ]
            if rules:
                out[name] = rules
    return out


def _every_points(
    model: Model, flags: dict[str, ir.BooleanValue]
) -> dict[str, ir.NumericValue]:
    """Per group, the points of the ``every`` rules a combination matches:
    ``e_<g>`` the positive ones (decayed later), ``en_<g>`` the negative ones.

    Summed once per distinct combination, so each event carries one number per
    group instead of one test per rule.
    """
    index = {rule.id: k for k, rule in enumerate(model.intent)}
    out: dict[str, ir.NumericValue] = {}
    for name, rules in _every_rules(model).items():
        gains = [
            ibis.ifelse(flags[f"m{index[r.id]}"], flt(r.points), flt(0.0))
            for r in rules
        ]
        out[name] = functools.reduce(operator.add, gains)
    return out


@dataclass(frozen=True)
class Matching:
    """The flags, keys and points of :func:`_matches`, computed once per distinct
    combination of the event type and the properties the model reads.

    A site has a few thousand distinct pages against millions of views: the text
    tests run on the small table of combinations (``matched``), which an inner
    join brings back to the events (combinations that match no rule drop out
    there). Nulls must meet in that join (:func:`_slot`). Built once, it serves
    every part of the state, so the combinations are found once.
    """

    model: Model
    events: ir.Table
    matched: ir.Table
    slots: dict[str, str]
    nullsafe: bool

    @classmethod
    def of(cls, model: Model, events: ir.Table) -> Matching:
        """The matching of ``events`` (the engine's layout) against the model."""
        present = column_map(events.columns, reserved=EVENT_CORE)
        read = [name for name in event_properties(model) if name in present]
        slots = {name: f"_v{i}" for i, name in enumerate(read)}
        # DuckDB hash-joins on IS NOT DISTINCT FROM; elsewhere null becomes ''.
        nullsafe = engine_of(events) == "duckdb"
        coded = events.mutate(
            **{
                slot: _slot(events[present[name]].cast("string"), nullsafe)
                for name, slot in slots.items()
            }
        )
        combos = coded.select("type", *slots.values()).distinct()
        return cls(model, coded, _matches(model, combos, slots), slots, nullsafe)

    def rows(
        self,
        carry: list[str] | None = None,
        with_id: bool = True,
        only: Sequence[int] | None = None,
    ) -> ir.Table:
        """The events that match a rule, with the ``carry`` columns of their
        combination (all when None). With ``only`` (rules' indexes) just the
        events matching one of those rules come back, joined on the properties
        those rules read alone."""
        matched, slots = self.matched, self.slots
        if carry is None:
            carry = [c for c in matched.columns if c not in ("type", *slots.values())]
        on = ["type", *slots.values()]
        if only is not None:
            rules = [self.model.intent[k] for k in only]
            own = {f for r in rules for f in (*r.where, r.repeat.key) if f}
            on = ["type", *(slot for name, slot in slots.items() if name in own)]
            # The flags and keys depend on these columns alone: one row per value.
            wanted = ibis.or_(*(matched[f"m{k}"] for k in only))
            matched = matched.filter(wanted).select(*on, *carry).distinct()
        core = [LEAD_KEY, *(["id"] if with_id else []), "ts"]
        left, right = self.events.select(*core, *on), matched.select(*on, *carry)
        keys = [
            left[c].identical_to(right[c]) if self.nullsafe and c != "type" else c
            for c in on
        ]
        return left.join(right, keys).select(*core, *carry)


def _slot(value: ir.StringValue, nullsafe: bool) -> ir.StringValue:
    """A property as a join key: as it is where the join is null-safe, else with
    null as ``''`` (which every condition and key reads alike)."""
    return value if nullsafe else value.fill_null("")


def _key_value(
    events: ir.Table, rule: IntentRule, columns: dict[str, str]
) -> ir.StringValue:
    column = columns.get(rule.repeat.key or "")
    if column is None:
        return ibis.literal(None, type="string")
    key = trim(events[column].cast("string"), engine_of(events)).lower()
    return ibis.cases((key == "", ibis.null("string")), else_=key)


def _rule_points(rule: IntentRule, weight: ir.FloatingValue) -> dict[str, ir.Value]:
    """One firing of ``rule`` as the sums of its group: its points decayed by
    ``weight`` (``pw_``) when positive, as they are (``pn_``) when negative; the
    other sums are 0 (:func:`_part` fills them)."""
    if rule.points > 0:
        return {f"pw_{rule.group}": flt(rule.points) * weight}
    if rule.points < 0:
        return {f"pn_{rule.group}": flt(rule.points)}
    return {}


def _part(
    model: Model,
    table: ir.Table,
    ts: ir.Value,
    act: ir.Value,
    sums: Mapping[str, ir.Value],
) -> ir.Table:
    """One part of the union that the state is summed from, typed alike; without
    the sums that no rule of the model can make other than 0, and with 0 for
    those ``sums`` leaves out."""
    kept = _sum_columns(model)
    return table.select(
        LEAD_KEY,
        ts=ts.cast("float64"),
        act=act.cast("int64"),
        **{name: sums.get(name, flt(0.0)).cast("float64") for name in kept},
    )


def _sum_columns(model: Model) -> list[str]:
    """``pw_<g>`` for each group with a positive rule, ``pn_<g>`` for each with
    a negative one: the other sums are 0 whatever happens."""
    out = []
    for group in model.groups:
        rules = [r for r in model.intent if r.group == group.id]
        if any(r.points > 0 for r in rules):
            out.append(f"pw_{group.id}")
        if any(r.points < 0 for r in rules):
            out.append(f"pn_{group.id}")
    return out


def _every_rows(model: Model, acts: ir.Table, weights: dict[str, str]) -> ir.Table:
    """One row per activity with the points of its ``every`` rules."""
    sums: dict[str, ir.NumericValue] = {}
    for group in model.groups:
        e_col, en_col = f"e_{group.id}", f"en_{group.id}"
        sums[f"pw_{group.id}"] = (
            acts[e_col] * acts[weights[group.id]] if e_col in acts.columns else flt(0.0)
        )
        sums[f"pn_{group.id}"] = acts[en_col] if en_col in acts.columns else flt(0.0)
    return _part(model, acts, acts["ts"], ibis.literal(1), sums)


def _repeat_rows(
    model: Model,
    k: int,
    rule: IntentRule,
    acts: ir.Table,
    weights: dict[str, str],
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
    return _part(
        model,
        fired,
        fired["ts"],
        ibis.literal(0),
        _rule_points(rule, fired[weights[rule.group]]),
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


def matching(model: Model, events: ir.Table, at: float, dedupe: bool) -> Matching:
    """The events up to ``at`` (one per id), matched against the intent rules:
    ``rows()`` gives those that match a rule, with flags ``m<k>`` (matches rule
    k), ``key<k>`` (its once_per value) and the points of the ``every`` rules per
    group (``e_<g>``, ``en_<g>``)."""
    events = events.filter(events["ts"] <= flt(at))
    if dedupe:
        events = _deduplicated(model, events)
    return Matching.of(model, events)


def event_state(
    model: Model, events: ir.Table, at: float, dedupe: bool, at_last: bool = False
) -> ir.Table:
    """Per lead with activity up to ``at``: decayed positives, negatives, last time."""
    if _memoryless(model, at_last):
        return _memoryless_state(model, events, at, dedupe)
    acts = matching(model, events, at, dedupe).rows(_carried(model, every=False))
    acts, weight_of = _weights(model, acts, at, at_last)
    params = decay_params(model)
    weights = {g.id: weight_of[params[g.id]] for g in model.groups}
    parts = [_every_rows(model, acts, weights)]
    for k, rule in enumerate(model.intent):
        if rule.repeat.mode != "every":
            parts.append(_repeat_rows(model, k, rule, acts, weights))
    return _summed(model, parts)


def _carried(model: Model, every: bool) -> list[str]:
    """What the state reads of each activity: the points of the ``every`` rules,
    and the flags (and keys) of the other rules; with ``every`` the flags of the
    ``every`` rules too."""
    out = list(_every_rules(model))
    for k, rule in enumerate(model.intent):
        if every or rule.repeat.mode != "every":
            out.append(f"m{k}")
        if rule.repeat.mode == "once_per":
            out.append(f"key{k}")
    return out


def _summed(model: Model, parts: list[ir.Table]) -> ir.Table:
    """The parts added up per lead: last activity, activities, p_ and n_ sums."""
    rows = parts[0].union(*parts[1:], distinct=False) if len(parts) > 1 else parts[0]
    aggs: dict[str, ir.Value] = {
        "last_ts": rows["ts"].max(),
        "activities": rows["act"].sum(),
    }
    zeros: dict[str, ir.Value] = {}
    for group in model.groups:
        p_col, n_col, _ = group_columns(group.id)
        for out, summed in ((p_col, f"pw_{group.id}"), (n_col, f"pn_{group.id}")):
            if summed in rows.columns:
                aggs[out] = rows[summed].sum()
            else:
                zeros[out] = flt(0.0)
    state = rows.group_by(LEAD_KEY).aggregate(**aggs)
    return state.mutate(**zeros) if zeros else state


def _memoryless(model: Model, at_last: bool) -> bool:
    """Whether a point's decay at ``at`` depends on its own time alone (no grace,
    read at one instant for all leads)."""
    return not at_last and all(p.grace == 0 for p in decay_params(model).values())


def _memoryless_state(
    model: Model, events: ir.Table, at: float, dedupe: bool
) -> ir.Table:
    """:func:`event_state` when decay is memoryless: one group-by does most of it.

    Each point then decays from its own time alone, so the ``every`` rules sum
    their decayed points per lead in one pass; a ``once`` rule needs the time of
    its first match (a min); ``once_per`` and ``min_count`` rules are summed from
    the first match per key and the N-th match, which are added to the per-lead
    sums before a second, small group-by. No event id is read (but to drop
    duplicates): where matches tie in time, which of them comes first does not
    change their points.
    """
    matches = matching(model, events, at, dedupe)
    acts = matches.rows(_carried(model, every=False), with_id=False)
    params = decay_params(model)
    acts, weight = _weights(model, acts, at, at_last=False)
    columns = set(acts.columns)
    aggs: dict[str, ir.Value] = {"ts": acts["ts"].max(), "act": acts.count()}
    for group in model.groups:
        if f"e_{group.id}" in columns:
            decayed = acts[f"e_{group.id}"] * acts[weight[params[group.id]]]
            aggs[f"pw_{group.id}"] = decayed.sum()
        if f"en_{group.id}" in columns:
            aggs[f"pn_{group.id}"] = acts[f"en_{group.id}"].sum()
    once = [k for k, r in enumerate(model.intent) if r.repeat.mode == "once"]
    for k in once:
        aggs[f"first{k}"] = acts["ts"].min(where=acts[f"m{k}"])
    per_lead = acts.group_by(LEAD_KEY).aggregate(**aggs)
    sums = _with_firsts(model, per_lead, once, at)
    parts = [_part(model, per_lead, per_lead["ts"], per_lead["act"], sums)]
    ranked = [
        k
        for k, rule in enumerate(model.intent)
        if rule.repeat.mode in ("once_per", "min_count")
    ]
    # Without duplicates to drop, reading the events again for these rules'
    # matches costs less than keeping every activity for them.
    own = (
        acts
        if dedupe or not ranked
        else matches.rows(_carried_by(model, ranked), with_id=False, only=ranked)
    )
    for k in ranked:
        parts.append(_fired_rows(model, k, model.intent[k], own, at))
    return _summed(model, parts)


def _carried_by(model: Model, ranked: list[int]) -> list[str]:
    """The columns some repeat rules read: their flags, and keys for once_per."""
    out = []
    for k in ranked:
        out.append(f"m{k}")
        if model.intent[k].repeat.mode == "once_per":
            out.append(f"key{k}")
    return out


def _fired_rows(
    model: Model, k: int, rule: IntentRule, acts: ir.Table, at: float
) -> ir.Table:
    """Where a once_per or min_count rule fires, with its points decayed to ``at``:
    the first match of each (lead, key), or each lead's N-th match."""
    matched = acts.filter(acts[f"m{k}"])
    if rule.repeat.mode == "once_per":
        key = f"key{k}"
        matched = matched.filter(matched[key].notnull())
        fired = matched.group_by([LEAD_KEY, key]).aggregate(ts=matched["ts"].min())
    else:
        rank = ibis.row_number().over(
            group_by=[matched[LEAD_KEY]], order_by=[matched["ts"]]
        )
        nth = (rule.repeat.count or 1) - 1
        fired = (
            matched.select(LEAD_KEY, "ts", _rank=rank)
            .filter(lambda t: t._rank == nth)
            .drop("_rank")
        )
    lam = decay_params(model)[rule.group].lam
    weight = decay_exp(flt(-lam) * (flt(at) - fired["ts"]))
    return _part(model, fired, fired["ts"], ibis.literal(0), _rule_points(rule, weight))


def _with_firsts(
    model: Model, per_lead: ir.Table, once: list[int], at: float
) -> dict[str, ir.NumericValue]:
    """Per group, the summed ``every`` points plus those of the ``once`` rules,
    each decayed from the time of its first match."""
    params = decay_params(model)
    columns = set(per_lead.columns)
    sums: dict[str, ir.NumericValue] = {}
    for group in model.groups:
        pw, pn = f"pw_{group.id}", f"pn_{group.id}"
        pos = per_lead[pw] if pw in columns else flt(0.0)
        neg = per_lead[pn] if pn in columns else flt(0.0)
        lam = params[group.id].lam
        for k in once:
            rule, first = model.intent[k], per_lead[f"first{k}"]
            if rule.group != group.id or rule.points == 0:
                continue
            if rule.points > 0:
                decayed = flt(rule.points) * decay_exp(flt(-lam) * (flt(at) - first))
                pos = pos + ibis.ifelse(first.notnull(), decayed, flt(0.0))
            else:
                neg = neg + ibis.ifelse(first.notnull(), flt(rule.points), flt(0.0))
        sums[pw], sums[pn] = pos, neg
    return sums


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
    acts = matching(model, events, at, dedupe).rows()
    # The last activity's id from a window in the same group-by, not from a join
    # of the activities with their own maximum: PostgreSQL, which cannot see how
    # many activities the match leaves, planned that join as a nested loop.
    latest = ibis.row_number().over(
        group_by=[acts[LEAD_KEY]],
        order_by=[ibis.desc(acts["ts"]), ibis.desc(acts["id"])],
    )
    acts = acts.mutate(_latest=latest)
    aggs: dict[str, ir.Value] = {
        "last_event_id": acts["id"].max(where=acts["_latest"] == 0)
    }
    for k, rule in enumerate(model.intent):
        hit = ibis.ifelse(acts[f"m{k}"], 1, 0)
        if rule.repeat.mode == "once":
            aggs[f"once{k}"] = hit.max()
        elif rule.repeat.mode == "min_count":
            aggs[f"count{k}"] = hit.sum()
        elif rule.repeat.mode == "once_per":
            keyed = acts[f"m{k}"] & acts[f"key{k}"].notnull()
            aggs[f"keys{k}"] = acts[f"key{k}"].collect(where=keyed)
    return acts.group_by(LEAD_KEY).aggregate(**aggs)


def fit_rules_holding(model: Model, leads: ir.Table) -> ir.Table:
    """Per lead, ``fit<i>``: whether fit rule i holds."""
    columns = column_map(leads.columns, reserved=LEAD_CORE)
    fields = [f for r in model.fit for f in r.when]
    leads, texts = prepare(leads, fields, columns)
    flags = {
        f"fit{i}": conditions(dict(r.when), texts) for i, r in enumerate(model.fit)
    }
    return leads.select(LEAD_KEY, **flags)
