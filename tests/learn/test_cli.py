"""The learn, evaluate and advise commands on a slice of the real leads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from mql.cli.learn_commands import register
from mql.model import load_model

pytestmark = pytest.mark.shared_data

SLICE = 3000  # leads: enough to learn, quick to score


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)
    return application


@pytest.fixture(scope="module")
def leads_file(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = pd.read_csv(shared_data / "x-education-leads" / "Leads.csv", nrows=SLICE)
    path = tmp_path_factory.mktemp("learn") / "leads.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def learned(app: typer.Typer, leads_file: Path) -> tuple[Path, Path, str]:
    model = leads_file.parent / "learned.yaml"
    report = leads_file.parent / "learn.html"
    result = CliRunner().invoke(
        app,
        [
            "learn",
            str(leads_file),
            "--recipe",
            "x-education",
            "--share",
            "0.3",
            "--folds",
            "0",
            "-O",
            str(model),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    return model, report, result.output


def test_learn_writes_a_model_file_and_a_report(
    learned: tuple[Path, Path, str],
) -> None:
    model, report, output = learned
    assert load_model(model).threshold > 0
    assert "learned (rounded points)" in output
    page = report.read_text(encoding="utf-8")
    # ROC, precision-recall, gains, calibration and trade-off plots.
    assert page.count("data:image/png;base64,") == 5
    assert '<img alt="ROC curve"' in page
    assert '<img alt="Precision-recall curve"' in page
    assert "<script" not in page
    assert "http" not in page.split("<h2>Model file")[0]


def test_learn_refuses_to_overwrite(
    app: typer.Typer, leads_file: Path, learned: tuple[Path, Path, str]
) -> None:
    model, _, _ = learned
    result = CliRunner().invoke(
        app, ["learn", str(leads_file), "--recipe", "x-education", "-O", str(model)]
    )
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.output


def test_learn_refuses_post_contact_columns(app: typer.Typer, leads_file: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "learn",
            str(leads_file),
            "--outcome",
            "Converted",
            "--missing",
            "Select",
            "--post-contact",
            "Tags",
            "-O",
            str(leads_file.parent / "leaky.yaml"),
        ],
    )
    assert result.exit_code == 2
    assert "Tags: declared as filled in after sales contact" in result.output


def test_evaluate_and_advise_any_model(
    app: typer.Typer, leads_file: Path, learned: tuple[Path, Path, str]
) -> None:
    model, _, _ = learned
    evaluated = CliRunner().invoke(
        app, ["evaluate", str(model), str(leads_file), "--recipe", "x-education"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert "Gains by decile" in evaluated.output
    assert "Calibration:" in evaluated.output
    advised = CliRunner().invoke(
        app,
        [
            "advise",
            str(model),
            str(leads_file),
            "--recipe",
            "x-education",
            "--capacity",
            "60",
            "--arrivals",
            "250",
        ],
    )
    assert advised.exit_code == 0, advised.output
    assert (
        "60 MQLs per week out of 250 leads per week is 24.0% of leads" in advised.output
    )


def test_two_goals_are_refused(
    app: typer.Typer, leads_file: Path, learned: tuple[Path, Path, str]
) -> None:
    model, _, _ = learned
    result = CliRunner().invoke(
        app,
        [
            "advise",
            str(model),
            str(leads_file),
            "--recipe",
            "x-education",
            "--recall",
            "0.8",
            "--precision",
            "0.7",
        ],
    )
    assert result.exit_code == 2
    assert "give one goal for the threshold" in result.output


def test_refit_writes_the_model_learned_on_every_lead(
    app: typer.Typer, leads_file: Path
) -> None:
    target = leads_file.parent / "refit.yaml"
    result = CliRunner().invoke(
        app,
        [
            "learn",
            str(leads_file),
            "--recipe",
            "x-education",
            "--folds",
            "0",
            "--refit",
            "-O",
            str(target),
        ],
    )
    assert result.exit_code == 0, result.output
    assert f"The model written (--refit) was then learned again on all {SLICE}" in (
        " ".join(result.output.split())
    )
    assert "(the model learned again on every lead (--refit))" in result.output
    written = target.read_text(encoding="utf-8")
    assert f"# Learned on every lead ({SLICE})." in written
