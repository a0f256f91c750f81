"""Adopting a learned model: leads imported with the documented mapping score so."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from mql.cli.app import app
from mql.learn import Options, learn, x_education
from mql.store import lead_scores, leads, open_store

pytestmark = pytest.mark.shared_data

ROWS = 400
DOCS = Path(__file__).resolve().parents[2] / "docs" / "learn.md"


def _documented_mapping() -> str:
    """The mapping docs/learn.md gives for importing leads for a learned model."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    return next(b for b in blocks if "external_id: Prospect ID" in b)


def test_leads_imported_with_the_documented_mapping_score_as_learned(
    shared_data: Path, tmp_path: Path
) -> None:
    raw = pd.read_csv(shared_data / "x-education-leads" / "Leads.csv", nrows=ROWS)
    leads_file = tmp_path / "Leads.csv"
    raw.to_csv(leads_file, index=False)
    data = x_education(leads_file)
    result = learn(data, Options(folds=0))
    predicted = dict(
        zip(raw["Prospect ID"], result.card.scores(data.frame), strict=True)
    )
    model_file = tmp_path / "learned.yaml"
    model_file.write_text(result.written.text, encoding="utf-8")
    mapping = tmp_path / "learned.mapping.yaml"
    mapping.write_text(_documented_mapping(), encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'firm.db'}"
    runner = CliRunner()
    imported = runner.invoke(
        app, ["--db", db, "import", "leads", str(leads_file), "--mapping", str(mapping)]
    )
    assert imported.exit_code == 0, imported.output
    scored = runner.invoke(app, ["--db", db, "--model", str(model_file), "score"])
    assert scored.exit_code == 0, scored.output

    store = open_store(db)
    try:
        with store.begin() as conn:
            stored = dict(
                conn.execute(
                    sa.select(leads.c.external_id, lead_scores.c.score).join(
                        lead_scores, lead_scores.c.lead_id == leads.c.id
                    )
                ).all()
            )
    finally:
        store.close()
    assert len(stored) == ROWS
    assert stored == pytest.approx(predicted, abs=1e-9)
    # The scores spread: the learned rules found the fields they read.
    assert len(set(stored.values())) > 20
