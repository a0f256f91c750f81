"""Period ends, and the notes ``mql rescore`` and ``mql backtest`` print on
standard error: empty store, past --at, conversions without a date."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mql.batch.backtest import Months, period_ends
from mql.cli.app import app
from mql.errors import InputError
from mql.store import leads, open_store

from .test_cli import workspace
from .test_store_io import MODEL

__all__ = ["workspace"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _backtest(db: str, model: Path, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["--db", db, "backtest", "--model", str(model), *args]
    )


def _ends(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [p["period_end"][:10] for p in json.loads(result.stdout)["periods"]]


def test_monthly_ends_fall_on_the_same_day_clamped(
    workspace: tuple[str, Path],
) -> None:
    result = _backtest(
        *workspace, "--from", "2025-01-31", "--to", "2025-05-31", "--every", "month",
        "--format", "json",
    )  # fmt: skip
    assert _ends(result) == [
        "2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"
    ]  # fmt: skip


def test_quarters_from_a_month_start() -> None:
    ends = period_ends(_at("2024-01-01"), _at("2024-12-31"), Months(3))
    assert [e.date().isoformat() for e in ends] == [
        "2024-01-01", "2024-04-01", "2024-07-01", "2024-10-01", "2024-12-31"
    ]  # fmt: skip


def test_the_last_row_is_at_to(workspace: tuple[str, Path]) -> None:
    result = _backtest(
        *workspace, "--from", "2009-01-01", "--to", "2009-06-30", "--every", "4w",
        "--format", "json",
    )  # fmt: skip
    assert _ends(result)[-2:] == ["2009-06-18", "2009-06-30"]


def test_to_equal_to_from_is_one_period_end() -> None:
    assert period_ends(_at("2025-01-06"), _at("2025-01-06"), Months(1)) == [
        _at("2025-01-06")
    ]


def test_too_many_months_are_refused_in_the_users_terms() -> None:
    with pytest.raises(InputError, match="--every 1month gives about"):
        period_ends(_at("1900-01-01"), _at("2025-01-01"), Months(1), "1month")


def test_from_after_to_is_said_in_the_users_terms(
    workspace: tuple[str, Path],
) -> None:
    result = _backtest(
        *workspace, "--from", "2025-03-06", "--to", "2025-01-20", "--every", "4w"
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: a backtest needs --from before --to; got --from 2025-03-06 after "
        "--to 2025-01-20: swap them"
    )


@pytest.fixture
def empty(tmp_path: Path) -> tuple[str, Path]:
    db = f"sqlite:///{tmp_path / 'mql.db'}"
    open_store(db).close()
    model = tmp_path / "mql.yaml"
    model.write_text(MODEL.replace("\n    ", "\n").strip() + "\n", encoding="utf-8")
    return db, model


def test_rescore_of_an_empty_store_says_so(empty: tuple[str, Path]) -> None:
    db, model = empty
    result = CliRunner().invoke(
        app, ["--db", db, "--model", str(model), "rescore", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["leads"] == 0
    assert "note: the store has no leads" in result.stderr
    assert "docs/import.md" in result.stderr


def test_backtest_of_an_empty_store_says_so(empty: tuple[str, Path]) -> None:
    result = _backtest(*empty, "--from", "2025-01-06", "--to", "2025-01-20")
    assert result.exit_code == 0, result.output
    assert "note: the store has no leads" in result.stderr


def test_backtest_before_any_event_says_there_are_none(
    workspace: tuple[str, Path],
) -> None:
    result = _backtest(*workspace, "--from", "2024-01-01", "--to", "2024-02-01")
    assert result.exit_code == 0, result.output
    assert "no events up to 2024-02-01" in result.stderr


def test_rescore_at_a_past_instant_says_what_is_stored(
    workspace: tuple[str, Path],
) -> None:
    db, model = workspace
    args = ["--db", db, "--model", str(model), "rescore"]
    past = CliRunner().invoke(app, [*args, "--at", "2025-02-06"])
    assert past.exit_code == 0, past.output
    assert "the stored states now hold the events up to 2025-02-06" in past.stderr
    assert "run `mql rescore` without --at" in past.stderr
    present = CliRunner().invoke(app, args)
    assert present.exit_code == 0, present.output
    assert present.stderr == ""


def test_backtest_counts_leads_converted_without_a_date(
    workspace: tuple[str, Path],
) -> None:
    store = open_store(workspace[0])
    with store.begin() as conn:
        conn.execute(
            leads.update().where(leads.c.id.in_([1, 3])).values(converted=True)
        )
        conn.execute(
            leads.update()
            .where(leads.c.id == 2)
            .values(converted=True, converted_at=_at("2025-02-01"))
        )
    store.close()
    result = _backtest(*workspace, "--from", "2025-01-06", "--to", "2025-02-20")
    assert result.exit_code == 0, result.output
    assert "2 leads are marked converted without a conversion date" in result.stderr
    assert "no lead has a conversion date" not in result.stderr
