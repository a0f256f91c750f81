"""Import follow-ups on the command line: quarantine filters, missing attributes,
and one-line errors for mistakes in the command line itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from mql.cli.app import app

from .conftest import Cli, Sample

#: A model whose fit rule reads ``title``, and leads whose export calls it "Title".
TITLE_MODEL = """\
name: titles
threshold: 10
fit:
  - id: senior
    when: {title: [Partner, Director]}
    points: 20
"""
TITLE_LEADS = "email,Title\nana@lopez-cpa.co.uk,Partner\nbo@kline-law.com,Associate\n"


def _title_workspace(tmp_path: Path) -> tuple[Cli, Path]:
    model = tmp_path / "titles.yaml"
    model.write_text(TITLE_MODEL, encoding="utf-8")
    leads = tmp_path / "leads.csv"
    leads.write_text(TITLE_LEADS, encoding="utf-8")
    return Cli(db=f"sqlite:///{tmp_path / 'mql.db'}", model=model), leads


def test_an_attribute_the_model_reads_but_no_lead_has_is_warned_once(
    tmp_path: Path,
) -> None:
    cli, leads = _title_workspace(tmp_path)
    imported = cli("import", "leads", leads)
    assert imported.exit_code == 0, imported.output
    warnings = [
        line for line in imported.stderr.splitlines() if line.startswith("warning:")
    ]
    assert warnings == [
        "warning: the model reads attribute 'title' (rules: senior) but no stored "
        "lead has it, so these rules never hold; the leads have 'Title': to read "
        "it, add `title: Title` under extra: in the leads mapping and import the "
        "file again (or rename the attribute in the model)"
    ]
    for command in ("score", "mqls"):
        result = cli(command, "--format", "json")
        assert result.exit_code == 0, result.output
        assert result.stderr.count("warning: the model reads attribute 'title'") == 1
        json.loads(result.stdout)  # standard output stays clean


def test_the_mapping_line_of_the_warning_fixes_it(tmp_path: Path) -> None:
    cli, leads = _title_workspace(tmp_path)
    mapping = tmp_path / "leads.mapping.yaml"
    mapping.write_text("extra:\n  title: Title\n", encoding="utf-8")
    result = cli("import", "leads", leads, "--mapping", mapping)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr
    scored = json.loads(cli("score", "--format", "json").stdout)
    assert sorted(row["fit"] for row in scored) == [0, 20]


def test_quarantine_list_filters_and_clear(
    cli: Cli, sample: Sample, bad_leads: Path, tmp_path: Path
) -> None:
    cli("import", "leads", bad_leads, "--mapping", sample.leads_mapping)
    again = cli("import", "leads", bad_leads, "--mapping", sample.leads_mapping)
    assert "quarantined 0" in again.stdout
    assert "1 rejected rows were already in quarantine" in again.stdout
    other = tmp_path / "other.csv"
    other.write_text("email\nnot-an-email\n", encoding="utf-8")
    cli("import", "leads", other)

    def listed(*args: str | Path) -> list[dict[str, object]]:
        result = cli("quarantine", "list", "--format", "json", *args)
        assert result.exit_code == 0, result.output
        rows: list[dict[str, object]] = json.loads(result.stdout)
        return rows

    assert len(listed()) == 2
    assert [r["file"] for r in listed("--file", other)] == [str(other)]
    assert [r["import_run"] for r in listed("--run", "1")] == [1]
    refused = cli("quarantine", "clear")
    assert refused.exit_code == 2
    assert "say which entries to clear" in refused.stderr
    cleared = cli("quarantine", "clear", "--file", bad_leads)
    assert cleared.stdout.strip() == "Cleared 1 quarantined rows."
    assert len(listed()) == 1
    assert cli("quarantine", "clear", "--all").stdout.startswith("Cleared 1 ")
    assert listed() == []


def test_quarantine_limit_help_says_rows() -> None:
    result = CliRunner().invoke(
        app, ["quarantine", "list", "--help"], env={"COLUMNS": "200"}
    )
    assert "Show at most this many rows." in result.stdout


def test_the_group_helps_have_an_example() -> None:
    for group in ("import", "quarantine"):
        result = CliRunner().invoke(app, [group, "--help"], env={"COLUMNS": "200"})
        assert f"Example: mql {group} " in result.stdout


def test_a_command_line_mistake_is_one_error_line() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mql.cli.app import main; main()",
            "score",
            "-n",
            "x",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: Invalid value for '--limit' / '-n': Input should be a valid integer, "
        "unable to parse string as an integer (see `mql score --help`)"
    ]
