"""The lifecycle commands take the demo path from MQL to won work."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer.testing import CliRunner

from mql.cli.lifecycle_commands import handoffs_app, lifecycle_app, register
from mql.store import open_store

from .conftest import CONFIG, T0, add_lead, set_score


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context, db: str = typer.Option("sqlite://")) -> None:
        ctx.obj = SimpleNamespace(db=db)

    register(app)
    return app


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    lead = add_lead(store, "cfo@acme.example", opted_out=True)
    set_score(store, lead, 81.0, True, T0, mql_until=T0 + timedelta(days=20))
    store.close()
    return url


def test_demo_path_from_mql_to_won(db: str, tmp_path: Path) -> None:
    config = tmp_path / "lifecycle.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    runner = CliRunner()
    app = _app()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", db, *args])
        assert result.exit_code == 0, result.output
        return result.output

    assert "1" in run(
        "lifecycle", "sync", "--at", "2026-12-01T11:00", "--config", str(config)
    )
    listed = run("handoffs", "list", "--status", "pending", "-f", "csv")
    handoff_id = listed.splitlines()[1].split(",")[0]
    out = run(
        "handoffs",
        "approve",
        handoff_id,
        "--by",
        "maria",
        "--at",
        "2026-12-01T11:30",
        "--config",
        str(config),
    )
    assert "routed to ana (round_robin)" in out
    run("accept", "cfo@acme.example", "--by", "ana", "--at", "2026-12-01T12:00")
    run(
        "bant",
        "cfo@acme.example",
        "--budget",
        "30000",
        "--authority",
        "CFO",
        "--need",
        "audit",
        "--timeline",
        "2027-03-31",
        "--by",
        "ana",
        "--at",
        "2026-12-03",
    )
    run(
        "opportunity",
        "cfo@acme.example",
        "--value",
        "28000",
        "--expected-close",
        "2027-02-01",
        "--by",
        "ana",
        "--at",
        "2026-12-10",
    )
    assert "opportunity -> client" in run(
        "won",
        "cfo@acme.example",
        "--reason",
        "fixed fee",
        "--by",
        "ana",
        "--at",
        "2027-01-20",
    )
    history = run("history", "cfo@acme.example", "-f", "csv")
    assert [line.split(",")[2] for line in history.splitlines()[1:]] == [
        "mql",
        "sal",
        "sql",
        "opportunity",
        "client",
    ]
    funnel = run("funnel", "-f", "json")
    assert '"stage": "client"' in funnel
    assert "cfo@acme.example" in run("handoffs", "export")
    assert "cfo@acme.example" not in run("handoffs", "export", "--purpose", "email")


def test_errors_are_one_line_with_exit_code_2(db: str) -> None:
    result = CliRunner().invoke(
        _app(), ["--db", db, "move", "cfo@acme.example", "won", "--by", "x"]
    )
    assert result.exit_code == 2
    assert "'won' is not a lifecycle stage; use one of subscriber" in result.output


@pytest.mark.parametrize(
    "command",
    [
        "history",
        "funnel",
        "move",
        "accept",
        "decline",
        "bant",
        "opportunity",
        "won",
        "lost",
    ],
)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(_app(), [command, "--help"])
    assert result.exit_code == 0
    assert "Example: mql" in result.output


@pytest.mark.parametrize("group", [handoffs_app, lifecycle_app])
def test_every_subcommand_has_an_example(group: typer.Typer) -> None:
    for info in group.registered_commands:
        assert info.callback is not None
        assert "Example: mql" in (info.callback.__doc__ or "")


def test_reject_decline_lost_and_the_outbox_commands(db: str, tmp_path: Path) -> None:
    config = tmp_path / "lifecycle.yaml"
    config.write_text(
        CONFIG + "webhooks:\n  - {name: crm, url: 'http://127.0.0.1:9/', secret: s}\n"
        "dispatch: {max_attempts: 1}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    app = _app()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["--db", db, *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("lifecycle", "sync", "--at", "2026-12-01T11:00")
    assert "rejected; lead 1 recycled" in run(
        "handoffs",
        "reject",
        "1",
        "--reason",
        "student",
        "--by",
        "maria",
        "--at",
        "2026-12-01T12:00",
    )
    run("move", "1", "mql", "--reason", "called us back", "--at", "2026-12-02")
    run("handoffs", "approve", "2", "--at", "2026-12-02", "--config", str(config))
    run("accept", "1", "--by", "ana", "--at", "2026-12-02", "--config", str(config))
    assert "sal -> recycled" in run(
        "lost", "1", "--reason", "budget cut", "--by", "ana", "--at", "2026-12-03"
    )
    assert "0 delivered" in run("lifecycle", "dispatch", "--config", str(config))
    failed = run("lifecycle", "outbox", "--status", "failed", "-f", "csv")
    assert len(failed.splitlines()) > 1
    assert "1 syncs" in run(
        "lifecycle", "run", "--for", "0.5", "--poll", "1", "--config", str(config)
    )
    assert "deliveries queued again" in run(
        "lifecycle", "retry", "--config", str(config)
    )


def _invoke(db: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["--db", db, *args])
    return result.exit_code, result.output


def test_history_needs_no_configuration(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MQL_LIFECYCLE_CONFIG", raising=False)
    (tmp_path / "lifecycle.yaml").write_text("owners: [\n", encoding="utf-8")
    code, out = _invoke(db, "history", "cfo@acme.example")
    assert code == 0, out
    code, out = _invoke(db, "lifecycle", "sync", "--at", "2026-12-01T11:00")
    assert code == 2
    assert "lifecycle.yaml:2: not valid YAML" in out


def test_unknown_statuses_and_owners_are_errors(db: str, tmp_path: Path) -> None:
    config = tmp_path / "lifecycle.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    code, out = _invoke(db, "handoffs", "export", "--status", "nope")
    assert code == 2
    assert "'nope' is not a handoff status; use one of pending" in out
    code, out = _invoke(db, "lifecycle", "outbox", "--status", "bogus")
    assert code == 2
    assert "'bogus' is not a delivery status; use one of pending" in out
    code, out = _invoke(
        db, "handoffs", "list", "--owner", "nobody", "--config", str(config)
    )
    assert code == 2
    assert "the configured owners are ana, ben, cho" in " ".join(out.split())


def test_handoff_status_help_lists_withdrawn() -> None:
    result = CliRunner().invoke(_app(), ["handoffs", "list", "--help"])
    assert "withdrawn" in result.output


def test_json_instants_are_utc_seconds_with_z(db: str) -> None:
    code, out = _invoke(db, "lifecycle", "sync", "--at", "2026-12-01T11:00:00.5")
    assert code == 0, out
    code, out = _invoke(db, "handoffs", "list", "-f", "json")
    assert '"created_at": "2026-12-01T10:00:00Z"' in out
    code, out = _invoke(
        db, "lifecycle", "sync", "--at", "2026-12-01T11:00:00.5", "-f", "json"
    )
    assert '"value": "2026-12-01T11:00:00Z"' in out
