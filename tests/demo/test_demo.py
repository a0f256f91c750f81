"""``mql demo`` end to end on the shipped real data, in a temporary folder.

The bounds below are loose on purpose: they hold for any sensible model of this
data and fail when the import, the scoring or the judging breaks (an MQL list no
better than chance has a lift near 1; a broken import loses contacts).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pytest
from rich.console import Console
from typer.testing import CliRunner

from mql.batch import rescore as batch_rescore
from mql.cli.app import app
from mql.cli.records import FIELD_MEANINGS, LEAD_FIELDS
from mql.demo.backtest import engine_tables
from mql.demo.compare import Comparison
from mql.demo.report import DemoReport, print_report
from mql.demo.runner import DATABASE_FILE, MODEL_FILE, reasons_of
from mql.model import load_model
from mql.workspace import explain_lead, mqls, open_workspace

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BANK_CONTACTS = 45_211
#: Contacts that subscribed, per the data set (y = yes).
BANK_SUBSCRIBERS = 5_289
#: Calendar months with calls (September 2008 has none).
MONTHS_WITH_CALLS = 30
TOP = 5


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One real run of ``mql demo --format json`` in a temporary folder."""
    folder = tmp_path_factory.mktemp("demo") / "mql-demo"
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(folder), "--top", str(TOP), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    return folder, json.loads(result.stdout)


def test_every_contact_and_call_is_imported(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    imports = demo_run[1]["imports"]
    assert imports["leads"]["imported"] == BANK_CONTACTS
    assert imports["events"]["imported"] > BANK_CONTACTS
    assert imports["leads"]["quarantined"] == imports["events"]["quarantined"] == 0


def test_the_mql_list_beats_chance_on_the_real_outcome(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    figures = demo_run[1]["comparison"]
    assert figures["contacts"] == BANK_CONTACTS
    assert figures["converters"] == BANK_SUBSCRIBERS
    assert demo_run[1]["cohorts"] == MONTHS_WITH_CALLS
    assert 0.05 < figures["mql_share"] < 0.30
    assert figures["caught_share"] > 0.30
    assert figures["precision"] > 2 * figures["base_rate"]
    assert figures["lift"] == pytest.approx(figures["precision"] / figures["base_rate"])
    assert figures["lift"] > 2.0


def test_the_top_mqls_are_mqls_with_reasons(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    body = demo_run[1]
    top = body["top_mqls"]
    assert len(top) == TOP
    assert body["mqls_at"] >= TOP
    assert body["at"] == "2010-11-18T00:00:00Z"
    for row in top:
        assert row["mql"] is True
        assert row["score"] >= load_model(demo_run[0] / MODEL_FILE).threshold
        assert row["reasons"]
        assert sum(r["value"] for r in row["reasons"]) <= row["score"] + 1e-9
    assert [r["score"] for r in top] == sorted((r["score"] for r in top), reverse=True)


def test_the_batch_engine_agrees_on_who_is_an_mql(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    folder, body = demo_run
    model = load_model(folder / MODEL_FILE)
    store = open_workspace(f"sqlite:///{folder / DATABASE_FILE}")
    try:
        leads, events = engine_tables(store, model)
    finally:
        store.close()
    at = datetime.fromisoformat(body["at"])
    result = batch_rescore(model, events, leads, at)
    assert pc.sum(result["mql"]).as_py() == body["mqls_at"]


def test_the_report_prints_the_figures_and_the_reasons(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    folder, body = demo_run
    model = load_model(folder / MODEL_FILE)
    at = datetime.fromisoformat(body["at"])
    store = open_workspace(f"sqlite:///{folder / DATABASE_FILE}")
    try:
        top = mqls(store, model, at, TOP)
        reasons = {
            row.lead: reasons_of(
                model, explain_lead(store, model, f"id:{row.lead}", at).explanation
            )
            for row in top
        }
    finally:
        store.close()
    figures = body["comparison"]
    report = DemoReport(
        folder=folder,
        database=body["database"],
        model=Path(body["model"]),
        imports=body["imports"],
        instant=at,
        comparison=Comparison(
            figures["contacts"],
            figures["converters"],
            figures["mqls"],
            figures["converters_caught"],
        ),
        cohorts=body["cohorts"],
        top=top,
        reasons=reasons,
        mqls_now=body["mqls_at"],
        seconds=body["seconds"],
    )
    console = Console(record=True, width=160)
    print_report(console, report)
    text = console.export_text()
    assert f"Top {TOP} of {body['mqls_at']:,} MQLs at 2010-11-18" in text
    assert f"{figures['lift']:.2f}x" in text
    assert "subscribed in the previous campaign" in text
    assert f"explain {top[0].external_id} --at 2010-11-18" in text


def test_a_file_in_the_way_is_one_error_line(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(app, ["demo", "--dir", str(blocker)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert "is a file; choose a folder" in result.stderr


def _readme_figures() -> dict[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("**Measured result**", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[1:3] for line in section.splitlines()[2:]]
    return {name.strip(): value.strip() for name, value in rows}


def test_the_readme_shows_the_measured_figures(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    figures = demo_run[1]["comparison"]
    readme = _readme_figures()
    assert readme["contacts"] == f"{figures['contacts']:,}"
    assert readme["subscribed (base rate)"] == (
        f"{figures['converters']:,} ({figures['base_rate']:.1%})"
    )
    assert readme["MQLs (MQL share of contacts)"] == (
        f"{figures['mqls']:,} ({figures['mql_share']:.1%})"
    )
    caught = "subscribers caught (share of converters that were MQLs)"
    assert readme[caught] == (
        f"{figures['converters_caught']:,} ({figures['caught_share']:.1%})"
    )
    assert readme["precision (MQLs that subscribed)"] == f"{figures['precision']:.1%}"
    assert readme["lift over the base rate"] == f"{figures['lift']:.2f}x"


def test_the_json_report_has_the_documented_fields(
    demo_run: tuple[Path, dict[str, Any]],
) -> None:
    documented = next(
        fields
        for title, fields in FIELD_MEANINGS.items()
        if "demo --format json" in title
    )
    assert list(demo_run[1]) == list(documented)
    assert list(demo_run[1]["top_mqls"][0]) == [*LEAD_FIELDS, "reasons"]
