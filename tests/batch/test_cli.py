"""``mql rescore`` and ``mql backtest`` over a store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mql.batch.backtest import Months
from mql.cli.app import app
from mql.cli.batch_commands import parse_every
from mql.errors import InputError
from mql.store import open_store

from .test_store_io import MODEL, _seed


@pytest.fixture
def workspace(tmp_path: Path) -> tuple[str, Path]:
    db = f"sqlite:///{tmp_path / 'mql.db'}"
    _seed(open_store(db))
    model = tmp_path / "mql.yaml"
    model.write_text(MODEL.replace("\n    ", "\n").strip() + "\n", encoding="utf-8")
    return db, model


def test_rescore_reports_counts_as_json(workspace: tuple[str, Path]) -> None:
    db, model = workspace
    args = ["--db", db, "--model", str(model), "rescore", "--at", "2025-02-06"]
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["engine"], row["leads"], row["events"], row["mqls"]) == (
        "duckdb",
        4,
        10,
        1,
    )


def test_backtest_compares_two_models(workspace: tuple[str, Path]) -> None:
    db, model = workspace
    result = CliRunner().invoke(
        app,
        ["--db", db, "backtest", "--model", str(model), "--against", str(model),
         "--from", "2025-01-06", "--to", "2025-02-20", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    # Weekly from 6 January (a Monday) to 17 February, then 20 February itself.
    assert len(body["periods"]) == 2 * 8
    assert body["periods"][-1]["period_end"] == "2025-02-20T00:00:00Z"
    assert [o["model"] for o in body["outcomes"]] == ["mql", "mql (current)"]


def test_backtest_takes_the_model_given_before_the_command(
    workspace: tuple[str, Path],
) -> None:
    db, model = workspace
    period = ["--from", "2025-01-06", "--to", "2025-02-20", "--format", "json"]
    runner = CliRunner()
    before = runner.invoke(
        app, ["--db", db, "--model", str(model), "backtest", *period]
    )
    after = runner.invoke(app, ["--db", db, "backtest", "--model", str(model), *period])
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout) == json.loads(after.stdout)
    other = model.with_name("other.yaml")
    other.write_text(model.read_text(encoding="utf-8"), encoding="utf-8")
    # The command's own --model wins over the one before it.
    both = runner.invoke(
        app, ["--db", db, "--model", str(model), "backtest", "--model", str(other),
              *period],
    )  # fmt: skip
    assert [o["model"] for o in json.loads(both.stdout)["outcomes"]] == ["other"]


def test_backtest_says_why_outcomes_are_empty(workspace: tuple[str, Path]) -> None:
    db, model = workspace
    result = CliRunner().invoke(
        app,
        ["--db", db, "backtest", "--model", str(model), "--from", "2025-01-06",
         "--to", "2025-02-20", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "no lead has a conversion date" in result.stderr
    body = json.loads(result.stdout)
    assert {o["converted"] for o in body["outcomes"]} == {0}


def test_backtest_refuses_an_unknown_period(workspace: tuple[str, Path]) -> None:
    db, model = workspace
    result = CliRunner().invoke(
        app,
        ["--db", db, "backtest", "--model", str(model), "--from", "2025-01-06",
         "--to", "2025-02-20", "--every", "fortnight"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--every 'fortnight' is not a period" in result.output


@pytest.mark.parametrize(
    ("text", "days"), [("day", 1), ("week", 7), ("3d", 3), ("2w", 14), ("2 weeks", 14)]
)
def test_every_reads_days_and_weeks(text: str, days: int) -> None:
    every = parse_every(text)
    assert isinstance(every, timedelta)
    assert every.days == days


@pytest.mark.parametrize(
    ("text", "months"),
    [("month", 1), ("Months", 1), ("2month", 2), ("quarter", 3), ("2 quarters", 6)],
)
def test_every_reads_months_and_quarters(text: str, months: int) -> None:
    assert parse_every(text) == Months(months)


@pytest.mark.parametrize("text", ["0d", "0month"])
def test_every_refuses_zero(text: str) -> None:
    with pytest.raises(InputError, match="use day, week, month, quarter, or a count"):
        parse_every(text)
