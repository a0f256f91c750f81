"""Event types and event properties a model reads that no stored event has."""

from __future__ import annotations

from pathlib import Path

import pytest

from mql.model import parse_model
from mql.store import Store
from mql.workspace import MissingEventRead, import_events, missing_event_reads

EVENTS = (
    "email,type,at,outcome,asset,url\n"
    "ana@lopez-cpa.co.uk,campaign_call,2025-03-01T10:00:00Z,success,,\n"
    "ana@lopez-cpa.co.uk,download,2025-03-02T10:00:00Z,,tax-guide,\n"
    "ben@harbor-law.com,page_view,2025-03-03T10:00:00Z,,,/fees\n"
)


CORRECT = """\
name: t
threshold: 10
groups: [{id: g}]
intent:
  - {id: call, event: campaign_call, where: {outcome: success}, points: 5,
     group: g, repeat: every}
  - {id: guide, event: download, points: 5, group: g, repeat: {once_per: asset}}
  - {id: fees, event: [page_view, download], where: {url: {contains: fees}},
     points: 5, group: g, repeat: every}
"""


@pytest.fixture
def loaded(store: Store, tmp_path: Path) -> Store:
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    import_events(store, path)
    return store


def test_no_events_no_findings(store: Store) -> None:
    model = parse_model(CORRECT.replace("campaign_call", "campain_call"))
    assert missing_event_reads(store, model) == []


def test_nothing_reported_when_every_read_is_stored(loaded: Store) -> None:
    assert missing_event_reads(loaded, parse_model(CORRECT)) == []


def test_misspelt_type_names_its_rules_and_near_match(loaded: Store) -> None:
    model = parse_model(
        CORRECT.replace("campaign_call", "campain_call")
        + "  - {id: recall, event: [campain_call, referral], points: 1, group: g,"
        " repeat: once}\n"
    )
    found = missing_event_reads(model=model, store=loaded)
    assert found == [
        MissingEventRead(
            "type", "campain_call", ("call", "recall"), ("campaign_call",)
        ),
        MissingEventRead("type", "referral", ("recall",), ()),
    ]
    assert found[0].message == (
        "the model reads event type 'campain_call' (rules: call, recall) but no "
        "stored event has it, so these rules never match; the events have "
        "'campaign_call': check the name in the model or the import mapping"
    )
    assert found[1].message.endswith(
        "never match; check the name in the model or the import mapping"
    )


def test_misspelt_where_property_has_a_near_match(loaded: Store) -> None:
    model = parse_model(CORRECT.replace("{outcome: success}", "{outcom: success}"))
    found = missing_event_reads(loaded, model)
    assert found == [
        MissingEventRead(
            "property", "outcom", ("call",), ("outcome",), ("campaign_call",)
        )
    ]
    assert found[0].message == (
        "the model reads event property 'outcom' (rules: call) but no stored event "
        "of type 'campaign_call' has it, so these rules never give points; those "
        "events have 'outcome': check the name in the model or the import mapping"
    )


def test_missing_once_per_key(loaded: Store) -> None:
    model = parse_model(CORRECT.replace("once_per: asset", "once_per: Asset_"))
    (finding,) = missing_event_reads(loaded, model)
    assert (finding.kind, finding.name, finding.rules) == (
        "property",
        "Asset_",
        ("guide",),
    )
    assert finding.near == ("asset",)


def test_a_property_is_looked_for_on_the_rule_types_only(loaded: Store) -> None:
    # `outcome` is stored, but on campaign calls, not on downloads.
    model = parse_model(CORRECT.replace("once_per: asset", "once_per: outcome"))
    (finding,) = missing_event_reads(loaded, model)
    assert (finding.name, finding.types) == ("outcome", ("download",))
    assert "no stored event of type 'download' has it" in finding.message


def test_present_false_is_not_a_read(loaded: Store) -> None:
    model = parse_model(
        CORRECT.replace("{outcome: success}", "{outcom: {present: false}}")
    )
    assert missing_event_reads(loaded, model) == []


@pytest.mark.parametrize(
    ("typed", "meant"), [("ulr", "url"), ("from", "form"), ("asest", "asset")]
)
def test_a_short_name_one_typo_away_is_suggested(typed: str, meant: str) -> None:
    from mql.workspace import _near

    assert _near(typed, {"url", "form", "asset", "channel"})[0] == meant


def test_two_letter_names_get_no_typo_guess() -> None:
    from mql.workspace import _near

    # One letter off, but with two letters that is half the name.
    assert _near("ab", {"ac", "xyz"}) == ()


def test_the_account_prefix_alone_does_not_make_names_near() -> None:
    from mql.workspace import _near

    stored = {"account.name", "account.industry", "state"}
    assert _near("account.state", stored) == ("state",)
    assert _near("account.industy", stored) == ("account.industry",)
