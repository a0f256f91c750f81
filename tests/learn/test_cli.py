"""The learn, evaluate and advise commands on a slice of the real leads."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner, Result

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


def test_learn_does_not_cry_leakage_on_honest_fields(
    learned: tuple[Path, Path, str],
) -> None:
    _, report, output = learned
    assert "POSSIBLE LEAKAGE" not in output
    assert "POSSIBLE LEAKAGE" not in report.read_text(encoding="utf-8")


def test_learn_warns_of_a_field_filled_in_after_contact(
    app: typer.Typer, leads_file: Path
) -> None:
    # Without the recipe nothing says that Tags is filled in by sales.
    result = _learn(
        app,
        leads_file,
        "--outcome",
        "Converted",
        "--exclude",
        "Prospect ID",
        recipe=None,
    )
    assert result.exit_code == 0, result.output
    assert "WARNING: POSSIBLE LEAKAGE: information value above 2" in result.output
    # Once: the report prints it, the log does not repeat it on stderr.
    assert result.output.count("POSSIBLE LEAKAGE") == 1
    assert "Tags (IV " in result.output
    assert "Total Time Spent on Website (IV " not in result.output


def _learn(
    app: typer.Typer,
    leads_file: Path,
    *options: str,
    recipe: str | None = "x-education",
) -> Result:
    target = leads_file.parent / "options.yaml"
    return CliRunner().invoke(
        app,
        [
            "learn",
            str(leads_file),
            *(["--recipe", recipe] if recipe else []),
            "--folds",
            "0",
            "--force",
            "-O",
            str(target),
            *options,
        ],
    )


def test_a_recipe_applies_post_contact(app: typer.Typer, leads_file: Path) -> None:
    result = _learn(app, leads_file, "--post-contact", "lead_origin")
    assert result.exit_code == 2
    assert "Lead Origin: declared as filled in after sales contact" in result.output


def test_a_recipe_applies_features(app: typer.Typer, leads_file: Path) -> None:
    result = _learn(
        app, leads_file, "--feature", "Lead Origin", "--feature", "totalvisits"
    )
    assert result.exit_code == 0, result.output
    model = load_model(leads_file.parent / "options.yaml")
    fields = {name for rule in model.fit for name in rule.when}
    assert fields == {"Lead Origin", "TotalVisits"}


def test_a_recipe_post_contact_feature_is_refused_unless_allowed(
    app: typer.Typer, leads_file: Path
) -> None:
    refused = _learn(app, leads_file, "--feature", "Tags", "--feature", "City")
    assert refused.exit_code == 2
    assert "Tags: declared as filled in after sales contact" in refused.output
    kept = _learn(
        app, leads_file, "--feature", "Tags", "--feature", "City", "--allow-leaky"
    )
    assert kept.exit_code == 0, kept.output
    assert "WARNING: LEAKAGE kept on purpose: Tags" in kept.output
    assert kept.output.count("LEAKAGE kept on purpose") == 1
    # The library's log line does not repeat it in the terminal.
    assert "LEAKAGE: keeping features" not in kept.output


def test_a_recipe_refuses_the_options_it_sets(
    app: typer.Typer, leads_file: Path
) -> None:
    result = _learn(app, leads_file, "--positive", "1", "--outcome", "y")
    assert result.exit_code == 2
    assert "leave out --outcome, --positive" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"Prospect ID,Converted\n", "a header row (Prospect ID, Converted) but no"),
        (b'{"Converted": 1}\n', "not a delimited text file (JSON"),
    ],
)
def test_files_that_are_not_leads_give_one_line(
    app: typer.Typer, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    model = tmp_path / "model.yaml"
    model.write_text("name: m\nthreshold: 1\nfit: []\n", encoding="utf-8")
    for args in (
        ["learn", str(path), "-O", str(tmp_path / "out.yaml")],
        ["evaluate", str(model), str(path)],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--test-share", "1.0"], "--test-share 1: the share of leads held out"),
        (["--share", "1.5"], "--share 1.5: give a share above 0 and at most 1"),
        (["--capacity", "60"], "give --arrivals"),
        (["--share", "0.3", "--period", "day"], "choose week or month"),
    ],
)
def test_learn_refuses_out_of_range_options(
    app: typer.Typer, leads_file: Path, options: list[str], message: str
) -> None:
    result = _learn(app, leads_file, *options)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--recall", "2"], "--recall 2: give a recall above 0 and at most 1"),
        (["--precision", "-1"], "--precision -1: give a precision above 0"),
        (["--capacity", "-5", "--arrivals", "250"], "--capacity -5: give a number"),
        (["--capacity", "60"], "needs the number of leads that arrive per week"),
    ],
)
def test_advise_refuses_out_of_range_goals(
    app: typer.Typer,
    leads_file: Path,
    learned: tuple[Path, Path, str],
    options: list[str],
    message: str,
) -> None:
    model, _, _ = learned
    result = CliRunner().invoke(
        app,
        ["advise", str(model), str(leads_file), "--recipe", "x-education", *options],
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "(got None)" not in result.output


def test_evaluate_on_the_file_learned_from_says_so(
    app: typer.Typer, leads_file: Path, learned: tuple[Path, Path, str]
) -> None:
    model, _, _ = learned
    same = CliRunner().invoke(
        app, ["evaluate", str(model), str(leads_file), "--recipe", "x-education"]
    )
    assert same.exit_code == 0, same.output
    note = "include the leads it learned from"
    assert "The model file says it was learned from this same file" in same.output
    assert "The held-out figures are the ones `mql learn` printed." in (
        " ".join(same.output.split())
    )
    header = model.read_text(encoding="utf-8")
    assert f'# Leads file: "{leads_file.name}", sha256 ' in header
    assert str(leads_file.parent) not in header
    # A copy holds the same leads: it is the same file for the figures.
    copy = leads_file.parent / "copy.csv"
    copy.write_bytes(leads_file.read_bytes())
    same_bytes = CliRunner().invoke(
        app, ["evaluate", str(model), str(copy), "--recipe", "x-education"]
    )
    assert note in " ".join(same_bytes.output.split())
    # Other bytes (here one lead fewer): the header cannot vouch for them.
    lines = leads_file.read_bytes().splitlines(keepends=True)
    other = leads_file.parent / "other.csv"
    other.write_bytes(b"".join(lines[:-1]))
    changed = CliRunner().invoke(
        app, ["evaluate", str(model), str(other), "--recipe", "x-education"]
    )
    assert changed.exit_code == 0, changed.output
    assert "learned from this same file" not in changed.output
    assert note not in " ".join(changed.output.split())
    assert "a file named" not in changed.output
    # Other bytes under the learned file's name: perhaps a new export of them.
    export = leads_file.parent / "export" / leads_file.name
    export.parent.mkdir()
    export.write_bytes(b"".join(lines[:-1]))
    renamed = CliRunner().invoke(
        app, ["evaluate", str(model), str(export), "--recipe", "x-education"]
    )
    assert renamed.exit_code == 0, renamed.output
    said = " ".join(renamed.output.split())
    assert f"learned from a file named {leads_file.name} with other bytes" in said
    assert "If this is a new export of the same leads" in said
