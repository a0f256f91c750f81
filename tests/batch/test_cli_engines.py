"""An engine that cannot be reached is one ``error:`` line and exit code 2."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from mql.batch import connect, engines
from mql.cli.app import app
from mql.errors import EngineError

from .test_cli import workspace

__all__ = ["workspace"]

#: Nothing listens there: the tests start no server on it.
CLOSED = "postgresql+psycopg://postgres:s3cret@127.0.0.1:5999/x"


def _run(db: str, model: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """``mql rescore`` or ``mql backtest`` (by the first of ``args``) on the store."""
    command = [*args]
    if args[0] == "backtest":
        command += ["--model", str(model), "--from", "2025-01-06", "--to", "2025-01-20"]
    return CliRunner().invoke(
        app, ["--db", db, "--model", str(model), *command], env=env
    )


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("command", ["rescore", "backtest"])
def test_a_closed_port_is_one_line_naming_engine_url_and_fix(
    workspace: tuple[str, Path], command: str
) -> None:
    line = _one_error_line(
        _run(*workspace, command, "--engine", "postgres", "--engine-url", CLOSED)
    )
    assert "postgres engine" in line
    assert "postgresql+psycopg://postgres:***@127.0.0.1:5999/x" in line
    assert "s3cret" not in line
    assert "check that the server runs" in line


def test_a_password_in_the_query_is_hidden_too(workspace: tuple[str, Path]) -> None:
    url = "postgresql://postgres@127.0.0.1:5999/x?sslmode=disable&Password=s3cret"
    line = _one_error_line(
        _run(*workspace, "rescore", "--engine", "postgres", "--engine-url", url)
    )
    assert "?sslmode=disable&Password=***" in line
    assert "s3cret" not in line


def test_a_keyword_connection_string_is_refused_without_its_password(
    workspace: tuple[str, Path],
) -> None:
    dsn = "host=127.0.0.1 user=app password=s3cret dbname=x"
    line = _one_error_line(
        _run(*workspace, "rescore", "--engine", "postgres", "--engine-url", dsn)
    )
    assert (
        "'host=127.0.0.1 user=app password=*** dbname=x' is not a PostgreSQL URL"
        in line
    )
    assert "s3cret" not in line


@pytest.mark.postgres
def test_a_missing_database_is_one_line(
    workspace: tuple[str, Path], postgres_url: str
) -> None:
    url = sa.engine.make_url(postgres_url)
    missing = url.set(database=f"{url.database}_missing").render_as_string(False)
    line = _one_error_line(
        _run(*workspace, "backtest", "--engine", "postgres", "--engine-url", missing)
    )
    assert f"{url.database}_missing" in line
    assert "does not exist" in line


def test_a_url_that_is_not_postgres_is_refused(workspace: tuple[str, Path]) -> None:
    line = _one_error_line(
        _run(*workspace, "rescore", "--engine", "postgres", "--engine-url", "not-a-url")
    )
    assert "'not-a-url' is not a PostgreSQL URL" in line


def test_a_duckdb_file_in_a_missing_folder_is_one_line(
    workspace: tuple[str, Path], tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "x.duckdb"
    line = _one_error_line(
        _run(*workspace, "rescore", "--engine", "duckdb", "--engine-url", str(target))
    )
    assert f"duckdb engine at {target}" in line
    assert "a folder that exists" in line


def test_duckdb_refuses_a_database_url() -> None:
    with pytest.raises(EngineError, match="use --engine postgres"):
        connect("duckdb", "postgresql://postgres@127.0.0.1:5999/x")


def test_a_spark_failure_names_engine_master_and_fix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A port that answers but is no Spark master: Spark's own error, in one line.
    def refuse(master: str) -> None:
        raise RuntimeError(
            "An error occurred while calling None.JavaSparkContext.\n"
            ": org.apache.spark.SparkException: All masters are unresponsive\n"
            "\tat org.apache.spark..."
        )

    monkeypatch.setattr(engines, "spark_session", refuse)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        master = f"spark://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(EngineError) as caught:
            connect("spark", master)
    message = str(caught.value)
    assert f"spark engine at {master}" in message
    assert "All masters are unresponsive" in message
    assert "check the master URL" in message
    assert "\tat " not in message


def test_a_spark_master_that_takes_no_connection_fails_before_spark_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_start(master: str) -> None:
        raise AssertionError(f"Spark was started for {master}")

    monkeypatch.setattr(engines, "spark_session", must_not_start)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        closed = listener.getsockname()[1]
    # Two masters (a standby list), neither answering: both are named.
    with pytest.raises(EngineError) as caught:
        connect("spark", f"spark://127.0.0.1:{closed},127.0.0.1:{closed}")
    message = str(caught.value)
    assert f"no Spark master answers at 127.0.0.1:{closed}" in message
    assert message.count(f"127.0.0.1:{closed} (") == 2
    assert "check the master URL" in message
    with pytest.raises(EngineError, match="is not a Spark master URL"):
        connect("spark", "spark://127.0.0.1")


def test_without_a_url_the_message_names_the_option_and_variable(
    workspace: tuple[str, Path],
) -> None:
    line = _one_error_line(_run(*workspace, "rescore", "--engine", "postgres"))
    assert "(--engine-url or MQL_BATCH_URL)" in line


@pytest.mark.parametrize("command", ["rescore", "backtest"])
def test_the_url_comes_from_mql_batch_url(
    workspace: tuple[str, Path], command: str
) -> None:
    result = _run(
        *workspace, command, "--engine", "postgres", env={"MQL_BATCH_URL": CLOSED}
    )
    assert "127.0.0.1:5999" in _one_error_line(result)


@pytest.mark.parametrize("command", ["rescore", "backtest"])
def test_the_engine_comes_from_mql_batch_engine(
    workspace: tuple[str, Path], command: str
) -> None:
    env = {"MQL_BATCH_URL": CLOSED, "MQL_BATCH_ENGINE": "postgres"}
    line = _one_error_line(_run(*workspace, command, env=env))
    assert "cannot connect to the postgres engine at" in line
    assert "127.0.0.1:5999" in line
    # The option still wins over the variable.
    chosen = _run(*workspace, command, "--engine", "duckdb", env=env)
    assert "the duckdb engine takes a file path" in _one_error_line(chosen)
