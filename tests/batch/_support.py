"""Builders shared by the batch tests: leads and events in both engines' forms,
random models and histories (hypothesis), and the comparison of results."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from mql.batch.layout import (
    event_properties,
    events_table,
    lead_attributes,
    leads_table,
)
from mql.model import Model, parse_model
from mql.scoring import Event, LeadState, score

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    """The instant ``n`` days after T0."""
    return T0 + timedelta(days=n)


def model(text: str) -> Model:
    """A model from indented YAML text."""
    return parse_model(textwrap.dedent(text))


@dataclass
class Lead:
    """One lead: id, attributes and its events (any order, duplicates allowed)."""

    id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


def tables(m: Model, leads: Sequence[Lead]) -> tuple[pa.Table, pa.Table]:
    """The batch engine's events and leads tables for these leads."""
    rows = [
        (lead.id, e.id, e.type, e.at, e.properties)
        for lead in leads
        for e in lead.events
    ]
    events = events_table(rows, event_properties(m))
    roster = leads_table([(x.id, x.attributes) for x in leads], lead_attributes(m))
    return events, roster


def rows_by_lead(result: pa.Table) -> dict[str, dict[str, Any]]:
    """The batch result as one dict per lead id."""
    return {row["lead"]: row for row in result.to_pylist()}


REL = 1e-9
#: A score this close to the threshold may fall either side in floating point.
EDGE = 1e-7


def assert_same(
    m: Model, leads: Sequence[Lead], result: pa.Table, at: datetime
) -> None:
    """The batch result agrees with the per-lead engine on every lead."""
    got = rows_by_lead(result)
    assert set(got) == {lead.id for lead in leads}
    for lead in leads:
        want = score(m, lead.attributes, lead.events, at)
        row = got[lead.id]
        where = f"lead {lead.id}: batch {row} vs per-lead {want}"
        assert math.isclose(row["score"], want.score, rel_tol=REL, abs_tol=REL), where
        assert math.isclose(row["fit"], want.fit, rel_tol=REL, abs_tol=REL), where
        assert row["grade"] == want.grade, where
        if abs(want.score - m.threshold) < EDGE:
            continue
        assert row["mql"] == want.mql, where
        assert row["disqualified_reason"] == want.disqualified_reason, where
        _assert_same_until(row["mql_until"], want.mql_until, where)


def assert_same_state(got: LeadState, want: LeadState, lead: str) -> None:
    """Two per-lead states agree: floats to 1e-9 relative, the rest exactly."""
    where = f"lead {lead}: batch {got} vs per-lead {want}"
    for side in ("positive", "negative"):
        a, b = getattr(got, side), getattr(want, side)
        assert a.keys() == b.keys(), where
        for key in a:
            assert math.isclose(a[key], b[key], rel_tol=REL, abs_tol=REL), where
    same = ("fit_rules", "disqualifier", "last_activity", "last_event_id",
            "fired_once", "once_per", "match_counts", "activities")  # fmt: skip
    for name in same:
        assert getattr(got, name) == getattr(want, name), (name, where)
    assert math.isclose(got.fit, want.fit, rel_tol=REL, abs_tol=REL), where


def _assert_same_until(got: datetime | None, want: datetime | None, where: str) -> None:
    if want is None or got is None:
        assert got is None, where
        assert want is None, where
        return
    assert abs((got - want).total_seconds()) <= 1.0, where


# -- random models -------------------------------------------------------------

URLS = ["https://firm.example/pricing", "/Fees/tax", "/blog/x", " Pricing ", "", "HOME"]
ASSETS = ["guide", "Guide ", "checklist", "", "200", "200.0"]
CHANNELS = ["email", "EMAIL", "web", " "]
CONDITIONS: list[tuple[str, dict[str, Any]]] = [
    ("url", {"contains": "pricing"}),
    ("url", {"glob": "*/fees*"}),
    ("url", {"glob": "?ome"}),
    ("url", {"regex": "pric(e|ing)"}),
    ("url", {"equals": "home"}),
    ("url", {"equals": "HOME", "case_sensitive": True}),
    ("url", {"in": ["/blog/x", "home"]}),
    ("url", {"present": True}),
    ("asset", {"present": False}),
    ("asset", {"equals": 200}),
    ("asset", {"min": 100, "max": 300}),
    ("channel", {"equals": "email"}),
    ("url", {"contains": "pricing", "not": True}),
    ("asset", {"min": 100, "max": 300, "not": True}),
    ("channel", {"in": ["email", "Ads"], "not": True}),
]
EVENT_TYPES = ["page_view", "form", "email_open"]
REPEATS: list[Any] = ["every", "once", {"once_per": "asset"}, {"min_count": 2}]
POINTS = [-15.0, -5.0, 5.0, 10.0, 25.5, 40.0, 80.0]


def _decay() -> st.SearchStrategy[dict[str, Any] | None]:
    return st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {
                "rate": st.sampled_from([0.0, 0.25, 0.5, 0.9]),
                "period_days": st.sampled_from([1.0, 30.0, 91.3125]),
                "grace_days": st.sampled_from([0.0, 0.0, 2.0, 30.0]),
            }
        ),
    )


@st.composite
def _group(draw: st.DrawFn, index: int) -> dict[str, Any]:
    group: dict[str, Any] = {"id": f"g{index}"}
    cap = draw(st.sampled_from([None, 15.0, 60.0]))
    floor = draw(st.sampled_from([None, -20.0, 0.0]))
    if cap is not None:
        group["cap"] = cap
    if floor is not None:
        group["floor"] = floor
    decay = draw(_decay())
    if decay is not None:
        group["decay"] = decay
    return group


@st.composite
def _intent_rule(draw: st.DrawFn, index: int, groups: int) -> dict[str, Any]:
    conds = draw(
        st.lists(st.sampled_from(CONDITIONS), max_size=2, unique_by=lambda c: c[0])
    )
    return {
        "id": f"r{index}",
        "event": draw(
            st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=2, unique=True)
        ),
        "where": dict(conds),
        "points": draw(st.sampled_from(POINTS)),
        "group": f"g{draw(st.integers(0, groups - 1))}",
        "repeat": draw(st.sampled_from(REPEATS)),
    }


FIT_RULES = [
    {"id": "big", "when": {"employees": {"min": 50}}, "points": 20.0},
    {"id": "abroad", "when": {"country": {"in": ["uk"], "not": True}}, "points": 5.0},
    {"id": "vp", "when": {"title": {"contains": "vp"}}, "points": 25.0},
    {"id": "uk", "when": {"country": {"in": ["UK", "ie"]}}, "points": 10.0},
    {"id": "nodomain", "when": {"email_domain": {"present": False}}, "points": -10.0},
]
DISQUALIFIERS = [
    {"id": "student", "when": {"title": {"regex": "student"}}, "reason": "student"},
    {"id": "rival", "when": {"email_domain": {"glob": "*rival*"}}, "reason": "rival"},
]


@st.composite
def models(draw: st.DrawFn) -> Model:
    """A random model with caps, floors, negative groups, grace and repeat modes."""
    n_groups = draw(st.integers(1, 3))
    groups = [draw(_group(i)) for i in range(n_groups)]
    n_rules = draw(st.integers(1, 6))
    data: dict[str, Any] = {
        "name": "random",
        "threshold": draw(st.sampled_from([20.0, 40.0, 60.0])),
        "decay": draw(_decay()) or {},
        "groups": groups,
        "intent": [draw(_intent_rule(i, n_groups)) for i in range(n_rules)],
        "fit": draw(st.lists(st.sampled_from(FIT_RULES), unique_by=lambda r: r["id"])),
        "disqualifiers": draw(
            st.lists(st.sampled_from(DISQUALIFIERS), unique_by=lambda r: r["id"])
        ),
    }
    cap = draw(st.sampled_from([None, None, 90.0]))
    if cap is not None:
        data["total_cap"] = cap
    grade = draw(st.sampled_from([None, None, "B", "C"]))
    if grade is not None:
        data["min_grade"] = grade
    return Model.model_validate(data)


ATTRIBUTES = {
    "employees": st.sampled_from(["200", 10, "abc", None, "50", 50.0, " 75 "]),
    "title": st.sampled_from(["VP Finance", "Student", "Partner", None, "", " vp "]),
    "country": st.sampled_from(["uk", "IE", "US", None]),
    "email_domain": st.sampled_from(["client.example", "rival.example", None, ""]),
}
#: Histories span about 400 days, read at up to 500 days.
HORIZON_SECONDS = 400 * 86_400


@st.composite
def _event(draw: st.DrawFn, lead: str, number: int) -> Event:
    seconds = draw(st.integers(0, HORIZON_SECONDS))
    micros = draw(st.sampled_from([0, 0, 250_000, 999_999]))
    props = {
        "url": draw(st.sampled_from([*URLS, None])),
        "asset": draw(st.sampled_from([*ASSETS, None])),
        "channel": draw(st.sampled_from([*CHANNELS, None])),
    }
    return Event(
        f"{lead}-e{number}",
        draw(st.sampled_from(EVENT_TYPES)),
        T0 + timedelta(seconds=seconds, microseconds=micros),
        {k: v for k, v in props.items() if v is not None},
    )


@st.composite
def _lead(draw: st.DrawFn, index: int) -> Lead:
    lead_id = f"L{index}"
    n = draw(st.integers(0, 10))
    events = [draw(_event(lead_id, k)) for k in range(n)]
    # Replayed events: the same event sent again, possibly much later in the feed.
    replays = draw(st.lists(st.sampled_from(events), max_size=3)) if events else []
    feed = draw(st.permutations(events + replays))
    attrs = draw(st.fixed_dictionaries(ATTRIBUTES))
    return Lead(lead_id, {k: v for k, v in attrs.items() if v is not None}, feed)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Lead], datetime]:
    """A few leads with late and duplicate events, and an instant to read at."""
    leads = [draw(_lead(i)) for i in range(draw(st.integers(1, 4)))]
    at = T0 + timedelta(seconds=draw(st.integers(0, HORIZON_SECONDS + 100 * 86_400)))
    return leads, at


def as_mapping(row: Mapping[str, Any]) -> dict[str, Any]:
    """A plain dict copy (for readable assertion messages)."""
    return dict(row)
