"""Group decay merged field by field, duplicate copies resolved by content, inputs
of the wrong type refused with InputError, and labels carried by explanations."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from mql.errors import InputError
from mql.model import Decay, parse_model
from mql.scoring import (
    Event,
    apply_event,
    explain,
    history,
    mql_until,
    new_state,
    read,
    read_properties,
    replay,
    score,
    with_attributes,
)

from ._support import QUARTER_DAYS, T0, day, ev, model

GRACE_MODEL = model(
    """
    name: t
    threshold: 50
    decay: {rate: 0.25, period_days: 91.3125, grace_days: 14}
    groups:
      - {id: web}
      - {id: referral, decay: {rate: 0.1}}
      - {id: slow, decay: {period_days: 365.25, grace_days: 0}}
    intent:
      - {id: fees, event: view, points: 80, group: web, repeat: every}
      - {id: intro, event: referral, points: 80, group: referral, repeat: once}
      - {id: talk, event: talk, points: 80, group: slow, repeat: once}
    """
)


def test_group_decay_keeps_the_model_fields_it_leaves_out():
    referral = GRACE_MODEL.decay_of("referral")
    assert (referral.rate, referral.period_days, referral.grace_days) == (
        0.1,
        QUARTER_DAYS,
        14.0,
    )
    slow = GRACE_MODEL.decay_of("slow")
    assert (slow.rate, slow.period_days, slow.grace_days) == (0.25, 365.25, 0.0)
    assert GRACE_MODEL.decay_of("web") == GRACE_MODEL.decay


def test_group_decay_merge_is_what_scores_use():
    """14 days of grace from the model, 10% a quarter from the group."""
    events = [ev("a", "referral", 0), ev("b", "talk", 0)]
    at_grace = score(GRACE_MODEL, {}, events, day(14))
    assert at_grace.groups["referral"] == 80.0
    later = score(GRACE_MODEL, {}, events, day(14 + QUARTER_DAYS))
    assert later.groups["referral"] == pytest.approx(72.0, rel=1e-12)
    assert later.groups["slow"] == pytest.approx(
        80 * 0.75 ** ((14 + QUARTER_DAYS) / 365.25), rel=1e-12
    )


def test_decay_over_fills_only_unset_fields():
    base = Decay(rate=0.3, period_days=30, grace_days=7)
    assert Decay(grace_days=0).over(base) == Decay(rate=0.3, period_days=30)
    assert Decay().over(base) == base


VIEW_MODEL = model(
    """
    name: t
    threshold: 50
    groups: [{id: web}]
    intent:
      - {id: fees, event: pv, where: {url: {glob: '*/fees*'}}, points: 80,
         group: web, repeat: every}
    """
)


def test_copies_at_one_instant_resolve_whatever_their_order():
    nomatch = Event("x", "nomatch", T0)
    view = Event("x", "pv", T0, {"url": "/fees"})
    assert score(VIEW_MODEL, {}, [nomatch, view], T0).score == 0.0
    assert score(VIEW_MODEL, {}, [view, nomatch], T0).score == 0.0


def test_copies_of_one_type_resolve_by_the_properties_the_model_reads():
    """The model reads url only: '/about' sorts before '/fees', whatever 'ref' says."""
    copies = [
        Event("x", "pv", T0, {"url": "/fees", "ref": "a"}),
        Event("x", "pv", T0, {"url": "/about", "ref": "b"}),
        Event("x", "pv", T0, {"ref": "c"}),
    ]
    for order in itertools.permutations(copies[:2]):
        assert score(VIEW_MODEL, {}, order, T0).score == 0.0
        assert replay(VIEW_MODEL, {}, order) == replay(VIEW_MODEL, {}, copies[:2])
    # A missing url sorts before any text.
    for order in itertools.permutations(copies):
        assert explain(VIEW_MODEL, {}, order, T0).state.activities == 0
    assert read_properties(VIEW_MODEL) == ("url",)


def test_history_alone_compares_every_property_by_name():
    copies = [
        Event("x", "pv", T0, {"url": "/about", "ref": "b"}),
        Event("x", "pv", T0, {"url": "/fees", "ref": "a"}),
        Event("x", "pv", T0, {"url": "/fees", "ref": True}),
    ]
    kept = {
        history(list(o))[0].properties["ref"] for o in itertools.permutations(copies)
    }
    assert kept == {"a"}
    assert history(copies, properties=["url"])[0].properties["url"] == "/about"
    assert history(copies[1:], properties=["ref"])[0].properties["ref"] == "a"


def test_the_earliest_copy_still_wins_over_content():
    early = Event("x", "zzz", T0)
    late = Event("x", "pv", day(1), {"url": "/fees"})
    assert history([late, early]) == [early]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: mql_until(
                VIEW_MODEL, new_state(VIEW_MODEL, {}), datetime(2025, 1, 1)
            ),
            r"^mql_until: at is a naive datetime \(2025-01-01T00:00:00\); give it a "
            r"time zone",
            id="naive-mql-until",
        ),
        pytest.param(
            lambda: score(VIEW_MODEL, {}, [], datetime(2025, 1, 1)),
            r"^score: at is a naive datetime",
            id="naive-score",
        ),
        pytest.param(
            lambda: explain(VIEW_MODEL, {}, [], datetime(2025, 1, 1)),
            r"^explain: at is a naive datetime",
            id="naive-explain",
        ),
        pytest.param(
            lambda: apply_event(
                VIEW_MODEL, new_state(VIEW_MODEL, {}), {"id": "x", "type": "pv"}
            ),
            r"^apply_event takes mql\.scoring\.Event objects; got dict \{'id': 'x', "
            r"'type': 'pv'\}\. Build one with Event\(id, type, at, properties\)",
            id="dict-event-apply",
        ),
        pytest.param(
            lambda: replay(VIEW_MODEL, {}, [{"id": "x"}]),
            r"^replay takes mql\.scoring\.Event objects; got dict",
            id="dict-event-replay",
        ),
        pytest.param(
            lambda: score(VIEW_MODEL, {}, [("x", "pv")], T0),
            r"^score takes mql\.scoring\.Event objects; got tuple",
            id="tuple-event-score",
        ),
        pytest.param(
            lambda: new_state(VIEW_MODEL, None),
            r"^new_state: attributes must be a mapping of field names to values; got "
            r"NoneType None\. Pass \{\} for a lead with no known fields",
            id="none-attributes-new-state",
        ),
        pytest.param(
            lambda: with_attributes(VIEW_MODEL, new_state(VIEW_MODEL, {}), None),
            r"^with_attributes: attributes must be a mapping",
            id="none-attributes-with-attributes",
        ),
        pytest.param(
            lambda: score(VIEW_MODEL, ["title"], [], T0),
            r"^score: attributes must be a mapping of field names to values; got list",
            id="list-attributes-score",
        ),
        pytest.param(
            lambda: replay(VIEW_MODEL, None, []),
            r"^replay: attributes must be a mapping",
            id="none-attributes-replay",
        ),
    ],
)
def test_wrong_inputs_are_refused_naming_the_function(call, message: str):
    with pytest.raises(InputError, match=message):
        call()


def test_read_still_names_itself():
    with pytest.raises(InputError, match=r"^read: at is a naive datetime"):
        read(VIEW_MODEL, new_state(VIEW_MODEL, {}), datetime(2025, 1, 1))


def test_with_attributes_takes_the_complete_set():
    m = parse_model(
        "name: t\nthreshold: 50\nfit:\n"
        "  - {id: cfo, when: {title: {contains: cfo}}, points: 20}\n"
        "  - {id: big, when: {employees: {min: 100}}, points: 10}\n"
    )
    stored = {"title": "CFO", "employees": 500}
    state = new_state(m, stored)
    # Only the changed field passed: the title counts as missing.
    assert with_attributes(m, state, {"employees": 50}).fit == 0.0
    assert with_attributes(m, state, {**stored, "employees": 50}).fit == 20.0


def test_explanation_entries_carry_the_labels():
    m = model(
        """
        name: t
        threshold: 50
        groups: [{id: web, label: Web pages, cap: 50}]
        fit: [{id: cfo, label: Finance lead, when: {title: CFO}, points: 20}]
        intent:
          - {id: fees, label: Fees page, event: pv, points: 80, group: web,
             repeat: every}
        disqualifiers:
          - {id: rival, label: Competitor, when: {domain: rival.example},
             reason: competitor}
        """
    )
    result = explain(
        m, {"title": "CFO", "domain": "rival.example"}, [ev("a", "pv", 0)], day(0)
    )
    labels = {e.kind: e.label for e in result.entries}
    assert labels == {
        "fit": "Finance lead",
        "intent": "Fees page",
        "cap": "Web pages",
        "disqualifier": "Competitor",
    }
    assert [e["label"] for e in result.to_dict()["entries"]] == [
        "Finance lead",
        "Fees page",
        "Web pages",
        "Competitor",
    ]
    assert list(result.to_dict()["entries"][0])[-2:] == ["note", "label"]
