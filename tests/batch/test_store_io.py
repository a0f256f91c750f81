"""The batch rescore of a store writes the rows the per-lead path writes."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from mql.batch.store_io import rescore_store
from mql.model import Model
from mql.scoring import LeadState
from mql.store import Store, accounts, events, lead_scores, leads, open_store
from mql.workspace import rescore as per_lead_rescore

from ._support import day, model

MODEL = """
    name: store
    threshold: 40
    decay: {grace_days: 5}
    groups: [{id: web, cap: 70}, {id: risk, floor: -20}, {id: content}]
    fit:
      - {id: big, when: {account.employees: {min: 50}}, points: 20}
      - {id: biz, when: {email_domain: {glob: "*.example"}}, points: 5}
    intent:
      - {id: fees, event: page_view, where: {url: {glob: "*/fees*"}}, points: 30,
         group: web, repeat: every}
      - {id: guide, event: download, points: 10, group: content,
         repeat: {once_per: asset}}
      - {id: binge, event: page_view, points: 5, group: content, repeat: {min_count: 3}}
      - {id: contact, event: page_view, where: {url: {contains: contact}}, points: 10,
         group: web, repeat: once}
      - {id: unsub, event: unsubscribe, points: -15, group: risk, repeat: once}
    disqualifiers:
      - {id: rival, when: {account.industry: accounting}, reason: competitor}
"""


def _seed(store: Store) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with store.begin() as conn:
        conn.execute(
            accounts.insert(),
            [
                {"id": 1, "domain": "big.example", "attributes": {"employees": 200},
                 "created_at": now, "updated_at": now},
                {"id": 2, "domain": "rival.example",
                 "attributes": {"industry": "Accounting"},
                 "created_at": now, "updated_at": now},
            ],
        )  # fmt: skip
        conn.execute(
            leads.insert(),
            [
                {"id": i, "email": f"p{i}@{dom}", "account_id": acct, "attributes": {},
                 "created_at": now, "updated_at": now}
                for i, dom, acct in [(1, "big.example", 1), (2, "rival.example", 2),
                                     (3, "gmail.com", None), (4, "big.example", 1)]
            ],
        )  # fmt: skip
        rows: list[dict[str, Any]] = []
        plan = [
            (1, "page_view", 0, {"url": "https://big.example/fees/tax"}),
            (1, "page_view", 1, {"url": "/contact"}),
            (1, "page_view", 20, {"url": "/contact"}),
            (1, "download", 21, {"asset": "Guide"}),
            (1, "download", 22, {"asset": " guide"}),
            (1, "unsubscribe", 30, {}),
            (2, "page_view", 3, {"url": "/fees"}),
            (2, "page_view", 3, {"url": "/fees"}),
            (3, "page_view", 10, {"url": "/blog"}),
            (3, "email_open", 11, {}),
        ]
        for n, (lead, kind, days, props) in enumerate(plan):
            rows.append(
                {"event_key": f"id:e{n}", "lead_id": lead, "type": kind,
                 "at": day(days), "properties": props}
            )  # fmt: skip
        conn.execute(events.insert(), rows)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(f"sqlite:///{tmp_path / 'mql.db'}")
    _seed(opened)
    return opened


def _stored(store: Store) -> dict[int, dict[str, Any]]:
    with store.engine.connect() as conn:
        return {r.lead_id: r._asdict() for r in conn.execute(sa.select(lead_scores))}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return abs((a - b).total_seconds()) <= 1.0
    return bool(a == b)


def test_batch_rows_match_the_per_lead_rows(store: Store) -> None:
    m: Model = model(MODEL)
    at = day(60)
    per_lead_rescore(store, m, at)
    want = _stored(store)
    report = rescore_store(store, m, at)
    got = _stored(store)

    assert (report.leads, report.events, report.gained, report.lost) == (4, 10, 0, 0)
    assert got.keys() == want.keys()
    for lead_id, row in want.items():
        for column in ("fit", "grade", "group_values", "last_activity", "score",
                       "as_of", "mql", "mql_until", "disqualified_reason",
                       "model_fingerprint"):  # fmt: skip
            assert _same(got[lead_id][column], row[column]), (lead_id, column)
        batch_state = LeadState.from_json(got[lead_id]["state"])
        assert _same(batch_state.to_json(), LeadState.from_json(row["state"]).to_json())


def test_report_counts_mqls_gained(store: Store) -> None:
    report = rescore_store(store, model(MODEL), day(31))
    assert report.mqls == report.gained == 1
    assert report.lost == 0
    assert report.to_dict()["engine"] == "duckdb"
