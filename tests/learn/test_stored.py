"""Learning from the store: leads whose outcome is known, attributes as imported."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mql.errors import InputError
from mql.learn import from_store, learn_scorecard, write_model
from mql.learn.scorecard import attribute_scores
from mql.store import Store, leads, open_store

SLICE = 600
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'mql.db'}")
    yield opened
    opened.close()


def _clean(value: object) -> object:
    return None if isinstance(value, float) and math.isnan(value) else value


@pytest.mark.shared_data
def test_learns_from_stored_leads_with_a_known_outcome(
    store: Store, shared_data: Path
) -> None:
    raw = pd.read_csv(shared_data / "x-education-leads" / "Leads.csv", nrows=SLICE)
    kept = ["Lead Origin", "Lead Source", "Total Time Spent on Website", "City"]
    rows = [
        {
            "external_id": str(row["Prospect ID"]),
            "attributes": {k: _clean(row[k]) for k in kept},
            "converted": bool(row["Converted"]) if i % 10 else None,
            "created_at": NOW,
            "updated_at": NOW,
        }
        for i, row in raw.iterrows()
    ]
    with store.begin() as conn:
        conn.execute(leads.insert(), rows)
    data = from_store(store)
    assert len(data.outcome) == SLICE - SLICE // 10  # unknown outcomes left out
    assert set(data.features) == set(kept)
    card = learn_scorecard(data)
    model = write_model(card, name="stored", threshold=200).model
    engine = attribute_scores(model, data.frame)
    np.testing.assert_array_equal(engine, card.scores(data.frame))


def test_a_store_without_outcomes_says_what_to_import(store: Store) -> None:
    with pytest.raises(InputError, match=r"no lead has a known outcome; import leads"):
        from_store(store)


@pytest.mark.shared_data
def test_the_learn_command_reads_the_store(
    store: Store, shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    from typer.testing import CliRunner

    from mql.cli.learn_commands import register
    from mql.settings import DATABASE_URL_ENV

    raw = pd.read_csv(shared_data / "x-education-leads" / "Leads.csv", nrows=SLICE)
    rows = [
        {
            "external_id": str(row["Prospect ID"]),
            "attributes": {
                "Lead Origin": row["Lead Origin"],
                "City": _clean(row["City"]),
            },
            "converted": bool(row["Converted"]),
            "created_at": NOW,
            "updated_at": NOW,
        }
        for _, row in raw.iterrows()
    ]
    with store.begin() as conn:
        conn.execute(leads.insert(), rows)
    monkeypatch.setenv(DATABASE_URL_ENV, store.url)
    app = typer.Typer()
    register(app)
    target = tmp_path / "stored.yaml"
    result = CliRunner().invoke(
        app, ["learn", "--from-store", "--folds", "0", "-O", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "mql learn stored leads" in result.output
    assert "Lead Origin" in target.read_text(encoding="utf-8")
