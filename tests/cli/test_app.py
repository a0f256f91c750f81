"""Every command on a small real workspace: happy paths and wrong input."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mql import __version__
from mql.cli.app import app
from mql.cli.records import ENTRY_FIELDS, LEAD_FIELDS, QUARANTINE_FIELDS
from mql.model import TEMPLATES

from .conftest import SAMPLE_ROWS, Cli, Sample

#: An instant after the sample's calls (the last is on 2010-11-17).
AFTER_CALLS = "2010-11-18"


def _error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_import_prints_the_counts(cli: Cli, sample: Sample) -> None:
    result = cli("import", "leads", sample.leads, "--mapping", sample.leads_mapping)
    assert result.exit_code == 0, result.output
    assert f"read {SAMPLE_ROWS:,}, imported {SAMPLE_ROWS:,}, updated 0" in result.stdout
    assert "quarantined 0" in result.stdout
    again = cli("import", "leads", sample.leads, "--mapping", sample.leads_mapping)
    assert again.exit_code == 0, again.output
    assert "imported 0" in again.stdout


def test_events_need_their_leads_imported_first(loaded: Cli, sample: Sample) -> None:
    result = loaded(
        "import", "events", sample.events, "--mapping", sample.events_mapping
    )
    assert result.exit_code == 0, result.output
    assert "imported 0" in result.stdout
    assert "duplicates" in result.stdout


def test_an_events_import_says_how_many_leads_it_created(
    cli: Cli, sample: Sample
) -> None:
    result = cli("import", "events", sample.events, "--mapping", sample.events_mapping)
    assert result.exit_code == 0, result.output
    assert "leads created " in result.stdout
    assert "leads created 0" not in result.stdout
    again = cli("import", "events", sample.events, "--mapping", sample.events_mapping)
    assert "leads created 0" in again.stdout


def test_a_bad_row_goes_to_quarantine_and_the_rest_is_imported(
    cli: Cli, sample: Sample, bad_leads: Path
) -> None:
    result = cli("import", "leads", bad_leads, "-m", sample.leads_mapping)
    assert result.exit_code == 0, result.output
    assert f"imported {SAMPLE_ROWS - 1:,}" in result.stdout
    assert "quarantined 1" in result.stdout
    assert "mql quarantine list" in result.stdout


def test_a_strict_import_refuses_the_file_with_a_bad_row(
    cli: Cli, sample: Sample, bad_leads: Path
) -> None:
    result = cli("import", "leads", bad_leads, "-m", sample.leads_mapping, "--strict")
    assert result.exit_code == 2
    line = _error_line(result.stderr)
    assert "bad.csv:4: field 'age'" in line
    assert "nothing was imported" in line
    listing = cli("score", "--at", AFTER_CALLS, "--format", "json")
    assert json.loads(listing.stdout) == []


def test_quarantine_list_names_the_row_and_field(
    cli: Cli, sample: Sample, bad_leads: Path
) -> None:
    cli("import", "leads", bad_leads, "--mapping", sample.leads_mapping)
    result = cli("quarantine", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert list(row) == list(QUARANTINE_FIELDS)
    assert row["line"] == 4  # the header is line 1
    assert row["field"] == "age"
    assert "forty" in row["reason"]
    assert "forty" in json.loads(row["raw"])
    table = cli("quarantine", "list")
    assert "forty" in table.stdout


def test_score_lists_every_lead_with_the_stable_fields(loaded: Cli) -> None:
    result = loaded("score", "--at", AFTER_CALLS, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == SAMPLE_ROWS
    assert all(list(row) == list(LEAD_FIELDS) for row in rows)
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    for row in rows:
        assert math.isclose(row["score"], row["fit"] + row["intent"], abs_tol=1e-9)
        assert row["grade"] in "ABCD"


def test_score_limit_and_table(loaded: Cli) -> None:
    result = loaded("score", "--at", AFTER_CALLS, "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "Scores at 2010-11-18" in result.stdout


def test_mqls_are_mqls_at_that_instant_and_lapse(loaded: Cli) -> None:
    result = loaded("mqls", "--at", AFTER_CALLS, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows, "the sample has MQLs the day after its last calls"
    assert list(rows[0]) == list(LEAD_FIELDS)
    assert {row["mql"] for row in rows} == {"true"}
    assert all(float(row["score"]) >= 50 for row in rows)
    # Every demo MQL needs a call, so it lapses: mql_until is set and later.
    assert all(row["mql_until"] > "2010-11-18" for row in rows)
    later = min(row["mql_until"] for row in rows)
    after = loaded("mqls", "--at", later, "--format", "json")
    leads_after = {row["lead"] for row in json.loads(after.stdout)}
    first_to_lapse = {int(row["lead"]) for row in rows if row["mql_until"] == later}
    assert not first_to_lapse & leads_after


def test_mqls_before_any_call_is_empty_and_limit_applies(loaded: Cli) -> None:
    before = loaded("mqls", "--at", "2000-01-01", "--format", "json")
    assert json.loads(before.stdout) == []
    limited = loaded("mqls", "--at", AFTER_CALLS, "-n", "2", "-f", "json")
    assert len(json.loads(limited.stdout)) == 2
    table = loaded("mqls", "--at", AFTER_CALLS, "--limit", "2")
    assert "MQLs at 2010-11-18" in table.stdout


def test_explain_entries_add_up_to_the_score(loaded: Cli) -> None:
    best = json.loads(loaded("mqls", "--at", AFTER_CALLS, "-f", "json").stdout)[0]
    result = loaded("explain", f"id:{best['lead']}", "--at", AFTER_CALLS, "-f", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["score"] == pytest.approx(best["score"])
    assert body["at"] == "2010-11-18T00:00:00Z"
    assert all(list(entry) == list(ENTRY_FIELDS) for entry in body["entries"])
    assert math.fsum(e["value"] for e in body["entries"]) == pytest.approx(
        body["score"]
    )


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_explain_by_external_id(loaded: Cli, fmt: str) -> None:
    best = json.loads(loaded("mqls", "--at", AFTER_CALLS, "-f", "json").stdout)[0]
    client = best["external_id"]
    result = loaded("explain", client, "--at", AFTER_CALLS, "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "call.reached" in result.stdout or "previous.success" in result.stdout
    if fmt == "table":
        assert f"lead {client} (id:{best['lead']}) at 2010-11-18: score" in (
            result.stdout.replace("\n", " ")
        )
        assert "MQL until" in result.stdout.replace("\n", " ")


def test_explain_an_unknown_lead_is_one_error_line(loaded: Cli) -> None:
    result = loaded("explain", "nobody@nowhere.example", "--at", AFTER_CALLS)
    assert result.exit_code == 2
    assert "no lead 'nobody@nowhere.example'" in _error_line(result.stderr)


@pytest.mark.parametrize(
    "args",
    [
        ("score", "--at", "last tuesday"),
        ("mqls", "--at", "2024-02-30"),
        ("explain", "1", "--at", "31/12/2024"),
    ],
)
def test_bad_at_is_a_usage_error_naming_the_option(
    loaded: Cli, args: tuple[str, ...]
) -> None:
    result = loaded(*args)
    assert result.exit_code == 2
    assert "Invalid value for '--at'" in result.stderr
    assert "is not an ISO date or timestamp" in result.stderr


@pytest.mark.parametrize("command", [("score",), ("mqls",), ("quarantine", "list")])
def test_bad_format_is_a_usage_error(loaded: Cli, command: tuple[str, ...]) -> None:
    result = loaded(*command, "--format", "xml")
    assert result.exit_code == 2
    assert "Invalid value for '--format'" in result.stderr


def test_unknown_file_is_one_error_line(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", "leads", tmp_path / "absent.csv")
    assert result.exit_code == 2
    assert "absent.csv" in _error_line(result.stderr)


def test_missing_model_is_one_error_line(cli: Cli, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["--db", cli.db, "--model", str(tmp_path / "none.yaml"), "mqls"]
    )
    assert result.exit_code == 2
    assert "cannot read the model file" in _error_line(result.stderr)
    assert "mql init" in result.stderr


def test_bad_database_url_is_one_error_line(sample: Sample) -> None:
    result = CliRunner().invoke(
        app, ["--db", "nonsense://", "--model", str(sample.model), "mqls"]
    )
    assert result.exit_code == 2
    _error_line(result.stderr)


@pytest.mark.parametrize("template", TEMPLATES)
def test_init_writes_the_template_and_creates_the_store(
    tmp_path: Path, template: str
) -> None:
    model, db = tmp_path / "mql.yaml", tmp_path / "mql.db"
    result = CliRunner().invoke(
        app,
        ["--db", f"sqlite:///{db}", "--model", str(model), "init", "-t", template],
    )
    assert result.exit_code == 0, result.output
    assert model.exists()
    assert db.exists()
    assert f"from the {template} template" in result.stdout
    # The console wraps long lines (even inside a long path): compare without blanks.
    printed = "".join(result.stdout.split())
    assert "".join(f"store ready at sqlite:///{db}.".split()) in printed


def test_init_refuses_to_overwrite_and_unknown_templates(tmp_path: Path) -> None:
    model = tmp_path / "mql.yaml"
    model.write_text("mine\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'mql.db'}"
    kept = CliRunner().invoke(app, ["--db", db, "--model", str(model), "init"])
    assert kept.exit_code == 2
    assert "already exists" in _error_line(kept.stderr)
    assert model.read_text(encoding="utf-8") == "mine\n"
    unknown = CliRunner().invoke(app, ["--model", str(model), "init", "-t", "tax"])
    assert unknown.exit_code == 2
    assert "unknown template 'tax'" in _error_line(unknown.stderr)


def test_database_defaults_to_the_environment(
    tmp_path: Path, sample: Sample, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "from-env.db"
    monkeypatch.setenv("MQL_DATABASE_URL", f"sqlite:///{db}")
    result = CliRunner().invoke(
        app, ["--model", str(sample.model), "mqls", "--at", AFTER_CALLS]
    )
    assert result.exit_code == 0, result.output
    assert db.exists()


def test_version_and_bare_command() -> None:
    assert CliRunner().invoke(app, ["--version"]).stdout == f"mql {__version__}\n"
    bare = CliRunner().invoke(app, [])
    assert "Usage" in bare.output


def test_main_is_the_console_script(monkeypatch: pytest.MonkeyPatch) -> None:
    from mql.cli.app import main

    monkeypatch.setattr("sys.argv", ["mql", "--version"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0


def test_import_prints_how_the_file_was_read(cli: Cli) -> None:
    windows_text = Path(__file__).parent.parent / "fixtures/messy/windows_1252.csv"
    result = cli("import", "leads", windows_text)
    assert result.exit_code == 0, result.output
    assert "Note: " in result.stdout
    assert "1252" in result.stdout
