"""docs/cli.md is made from the help, and every command has help with an example."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mql.cli.app import app
from mql.cli.reference import reference, walk

REPO = Path(__file__).resolve().parents[2]
CLI_DOC = REPO / "docs" / "cli.md"
COMMANDS = [path for path, _ in walk(typer.main.get_command(app))]


def test_cli_reference_is_up_to_date() -> None:
    fresh = reference(typer.main.get_command(app))
    assert CLI_DOC.read_text(encoding="utf-8") == fresh, (
        "docs/cli.md is stale; run `mql docs --output docs/cli.md`"
    )


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help_and_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path[1:], "--help"])
    assert result.exit_code == 0, result.output
    command = dict(walk(typer.main.get_command(app)))[path]
    assert command.help, f"{' '.join(path)} has no help"
    is_group = bool(getattr(command, "commands", None)) and len(path) > 1
    if not is_group:
        assert "Example: mql" in command.help, f"{' '.join(path)} has no example"
    for param in command.params:
        assert getattr(param, "help", None), f"{param.name} of {path} has no help"


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    assert f"`{' '.join(path)}`" in CLI_DOC.read_text(encoding="utf-8")


def test_docs_command_writes_the_reference(tmp_path: Path) -> None:
    target = tmp_path / "cli.md"
    result = CliRunner().invoke(app, ["docs", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == reference(typer.main.get_command(app))
    printed = CliRunner().invoke(app, ["docs"])
    assert printed.output == target.read_text(encoding="utf-8")


def test_json_fields_are_documented() -> None:
    text = CLI_DOC.read_text(encoding="utf-8")
    for name in (
        "lead",
        "email",
        "account",
        "score",
        "fit",
        "intent",
        "grade",
        "mql",
        "mql_until",
        "disqualified_reason",
    ):
        assert f"| `{name}` |" in text
