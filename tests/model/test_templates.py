"""Each bundled template loads and scores sample leads the way its comments say."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mql.model import TEMPLATES, Model
from mql.model import load_template as _load_template
from mql.scoring import Event, explain, score

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

#: A sample buyer for each template: title, size, industry and place it targets.
BUYERS: dict[str, dict[str, Any]] = {
    "cpa": {
        "title": "Chief Financial Officer (CFO)",
        "account.employees": 120,
        "account.industry": "Construction",
        "account.state": "NY",
        "account.country": "US",
    },
    "law": {
        "title": "General Counsel",
        "account.employees": 300,
        "account.industry": "Technology",
        "account.state": "CA",
    },
    "consulting": {
        "title": "VP, Operations and Digital Transformation",
        "account.employees": 1200,
        "account.industry": "Insurance",
        "account.country": "GB",
    },
    "hr": {
        "title": "HR Director",
        "account.employees": 85,
        "account.industry": "Hospitality",
        "account.state": "CA",
    },
}


@functools.cache
def load_template(name: str) -> Model:
    return _load_template(name)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def hot_history() -> list[Event]:
    """Fees page, a webinar attended, a guide, then a consultation request."""
    return [
        Event("v1", "page_view", at(0), {"url": "https://firm.example/fees"}),
        Event("v2", "page_view", at(0), {"url": "https://firm.example/pricing"}),
        Event("w1", "webinar_attended", at(2), {"campaign": "year-end-2025"}),
        Event("d1", "content_download", at(3), {"asset": "checklist"}),
        Event("f1", "form_submit", at(5), {"form": "consultation_request"}),
    ]


@pytest.mark.parametrize("name", TEMPLATES)
def test_template_loads_with_every_part(name: str):
    model = load_template(name)
    assert model.name == name
    assert model.fit
    assert model.intent
    assert model.disqualifiers
    kinds = {c.kind for r in model.fit for c in r.when.values()}
    assert {"regex", "in", "range"} <= kinds
    group_ids = {g.id for g in model.groups}
    assert {"newsletter", "referral", "disinterest"} <= group_ids
    assert model.group("newsletter").cap is not None


@pytest.mark.parametrize("name", TEMPLATES)
def test_sample_buyer_with_a_consultation_request_is_an_mql(name: str):
    model = load_template(name)
    result = explain(model, BUYERS[name], hot_history(), at(5))
    assert result.score.grade in ("A", "B")
    assert result.score.mql, result.to_dict()
    assert result.score.mql_until is not None
    assert result.score.mql_until > at(5)
    rules = {e.rule for e in result.entries}
    assert "webinar_attended" in rules


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_same_buyer_without_activity_is_not_an_mql(name: str):
    result = score(load_template(name), BUYERS[name], [], at(5))
    assert result.intent == 0
    assert not result.mql


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize(
    ("change", "reason_part"),
    [
        ({"email_domain": "law.stanford.edu"}, "academic"),
        ({"title": "Accounting student"}, "student"),
        ({"account.is_client": True}, "existing client"),
    ],
)
def test_disqualified_leads_keep_their_score(
    name: str, change: dict[str, Any], reason_part: str
):
    model = load_template(name)
    result = score(model, {**BUYERS[name], **change}, hot_history(), at(5))
    assert result.disqualified_reason is not None
    assert reason_part in result.disqualified_reason
    assert not result.mql
    assert result.score > 0


@pytest.mark.parametrize("name", TEMPLATES)
def test_competitor_domains_are_disqualified(name: str):
    model = load_template(name)
    domain = model.disqualifiers[0].when["email_domain"].in_
    assert domain is not None
    result = score(model, {**BUYERS[name], "email_domain": domain[0]}, [], at(0))
    assert "compet" in (result.disqualified_reason or "")


@pytest.mark.parametrize("name", TEMPLATES)
def test_attending_is_worth_more_than_registering(name: str):
    model = load_template(name)
    registered = [Event("r", "webinar_registered", at(0), {"campaign": "x"})]
    attended = [Event("a", "webinar_attended", at(0), {"campaign": "x"})]
    assert (
        score(model, {}, attended, at(0)).intent
        > score(model, {}, registered, at(0)).intent
        > 0
    )


@pytest.mark.parametrize("name", TEMPLATES)
def test_newsletter_clicks_are_capped_and_referrals_weigh_most(name: str):
    model = load_template(name)
    clicks = [
        Event(f"c{i}", "email_click", at(i / 10), {"campaign": "newsletter-may"})
        for i in range(40)
    ]
    newsletter = score(model, {}, clicks, at(4)).groups["newsletter"]
    assert newsletter == model.group("newsletter").cap
    referral = [Event("r", "referral", at(0), {"referrer": "client-17"})]
    assert score(model, {}, referral, at(0)).intent > newsletter


@pytest.mark.parametrize("name", TEMPLATES)
def test_careers_pages_and_unsubscribes_take_points_away(name: str):
    model = load_template(name)
    before = score(model, BUYERS[name], hot_history(), at(5))
    bad = [
        Event("k", "page_view", at(5), {"url": "https://firm.example/careers/jobs"}),
        Event("u", "unsubscribe", at(5)),
    ]
    after = score(model, BUYERS[name], [*hot_history(), *bad], at(5))
    assert after.groups["disinterest"] < 0
    assert after.score < before.score
