"""Handoffs record the model's own explanation when a ModelScorer is given."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from mql.lifecycle import Lifecycle, ModelScorer, parse_config
from mql.model import parse_model
from mql.store import Store
from mql.store.tables import events
from mql.workspace import rescore

from .conftest import CONFIG, T0, add_lead

MODEL = parse_model(
    """
name: test
threshold: 50
groups: [{id: web, cap: 100}]
fit:
  - {id: partner-title, when: {title: {contains: partner}}, points: 20}
intent:
  - {id: fees-page, event: page_view, where: {url: {glob: "*/fees*"}}, points: 40,
     group: web, repeat: every}
"""
)


def test_the_handoff_carries_the_explanation_at_the_crossing(store: Store) -> None:
    lead = add_lead(store, "partner@firm.example", title="Managing Partner")
    with store.begin() as conn:
        conn.execute(
            sa.insert(events),
            [
                {
                    "event_key": f"id:e{i}",
                    "lead_id": lead,
                    "type": "page_view",
                    "at": T0 + timedelta(days=i),
                    "properties": {"url": "/fees"},
                }
                for i in range(2)
            ],
        )
    rescore(store, MODEL)
    lifecycle = Lifecycle(store, parse_config(CONFIG), scorer=ModelScorer(MODEL))
    report = lifecycle.sync(T0 + timedelta(days=3))
    assert report.created == 1
    (handoff,) = lifecycle.handoffs()
    assert handoff.created_at == T0 + timedelta(days=1)  # the second fees visit
    explanation = handoff.explanation
    assert explanation is not None
    assert explanation["source"] == "model"
    values = [entry["value"] for entry in explanation["entries"]]
    assert sum(values) == pytest.approx(handoff.score)
    # 20 fit + 40 decayed one day + 40 fresh, read at the crossing.
    assert 99 < handoff.score < 100
    assert handoff.mql_until is not None
    assert handoff.mql_until > handoff.created_at
