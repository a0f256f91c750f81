"""Evaluating a model on the store: each lead scored with its stored events.

The store holds the last real bank contacts (September to November 2010) and
their calls, imported as the demo imports them; the demo's hand-made model
gives most of its points for calls (intent rules), so a lead scored on its
attributes alone would rank far worse.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from typer.testing import CliRunner

from mql.cli.app import app
from mql.demo.bank import data_path, write_files
from mql.errors import InputError
from mql.learn import (
    Evaluation,
    engine_scores,
    evaluate_stored,
    from_store,
    stored_scores,
)
from mql.learn.scorecard import READ_AT
from mql.model import Model, load_model
from mql.store import Store, open_store
from mql.workspace import import_events, import_leads, scores

#: The last contacts of bank-full.csv: enough converters, quick to import.
SAMPLE_ROWS = 400
FIRST_ROW = 45_211 - SAMPLE_ROWS + 1
#: The day after the last call of the data set.
AFTER_LAST_CALL = datetime(2010, 11, 18, tzinfo=UTC)
#: The demo model's fit alone reaches 45 points at most (see its threshold note).
MAX_FIT = 45


def _tail(source: Path, target: Path) -> Path:
    with (
        source.open(encoding="utf-8") as src,
        target.open("w", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(src)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(r for r in reader if int(r["client_id"]) >= FIRST_ROW)
    return target


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("bank")
    full = write_files(folder / "full")
    store = open_store(f"sqlite:///{folder / 'mql.db'}")
    import_leads(
        store,
        _tail(full.leads, folder / "leads.csv"),
        data_path("leads.mapping.yaml"),
    )
    import_events(
        store,
        _tail(full.events, folder / "events.csv"),
        data_path("events.mapping.yaml"),
    )
    yield store
    store.close()


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(data_path("model.yaml"))


@pytest.fixture(scope="module")
def evaluation(stored: Store, model: Model) -> Evaluation:
    return evaluate_stored(stored, model, AFTER_LAST_CALL)


def test_stored_leads_are_scored_with_their_events(stored: Store, model: Model) -> None:
    y, result = stored_scores(stored, model, AFTER_LAST_CALL)
    assert len(y) == SAMPLE_ROWS
    by_lead = {row.lead: row.score for row in scores(stored, model, AFTER_LAST_CALL)}
    np.testing.assert_allclose(result.scores, [by_lead[i] for i in sorted(by_lead)])
    # Only intent (a call) can take a lead above the fit's maximum.
    assert (result.scores > MAX_FIT).mean() > 0.5


def test_intent_rules_count_in_the_evaluation(
    stored: Store, model: Model, evaluation: Evaluation
) -> None:
    with_events = evaluation.metrics
    data = from_store(stored)
    attributes_only = engine_scores(model, data, READ_AT)
    assert with_events.at_threshold is not None
    assert with_events.at_threshold.mqls > 0
    # Attributes alone never reach the threshold of 50: no lead would be an MQL.
    assert not attributes_only.mql.any()
    alone = roc_auc_score(data.outcome, attributes_only.scores)
    assert with_events.roc_auc > alone + 0.05


def test_the_evaluate_command_scores_stored_events_at_an_instant(
    stored: Store, evaluation: Evaluation
) -> None:
    command = ["--db", stored.url, "evaluate", str(data_path("model.yaml"))]
    result = CliRunner().invoke(
        app, [*command, "--from-store", "--at", "2010-11-18"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "at 2010-11-18T00:00:00+00:00 from each lead's attributes and" in (
        result.output
    )
    assert f"{evaluation.metrics.roc_auc:.4f}" in result.output


def test_the_advise_command_reads_stored_events(stored: Store) -> None:
    result = CliRunner().invoke(
        app,
        [
            "--db",
            stored.url,
            "advise",
            str(data_path("model.yaml")),
            "--from-store",
            "--at",
            "2010-11-18",
            "--share",
            "0.3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "stored events (intent rules count)" in result.output
    assert "Advised threshold:" in result.output


def test_a_store_without_outcomes_cannot_be_evaluated(
    tmp_path: Path, model: Model
) -> None:
    empty = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(InputError, match=r"no lead has a known outcome.*before "):
            evaluate_stored(empty, model, AFTER_LAST_CALL)
    finally:
        empty.close()


def test_a_store_where_every_lead_converted_cannot_be_evaluated(
    tmp_path: Path, model: Model
) -> None:
    from mql.store import leads

    only = open_store(f"sqlite:///{tmp_path / 'only.db'}")
    rows = [
        {
            "external_id": str(i),
            "attributes": {"job": "student"},
            "converted": True,
            "created_at": AFTER_LAST_CALL,
            "updated_at": AFTER_LAST_CALL,
        }
        for i in range(3)
    ]
    try:
        with only.begin() as conn:
            conn.execute(leads.insert(), rows)
        with pytest.raises(InputError, match=r"every lead with a known outcome has"):
            evaluate_stored(only, model, AFTER_LAST_CALL)
    finally:
        only.close()
