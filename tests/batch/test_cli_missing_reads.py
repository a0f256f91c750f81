"""``mql rescore`` and ``mql backtest`` warn on standard error about attributes,
event types and event properties the model reads that the store lacks."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from mql.cli.app import app

from .test_cli import workspace

__all__ = ["workspace"]

TYPE_WARNING = (
    "the model reads event type 'unsubscrbe' (rules: unsub) but no stored event "
    "has it, so these rules never match; the events have 'unsubscribe': check the "
    "name in the model or the import mapping"
)
PROPERTY_WARNING = (
    "the model reads event property 'urls' (rules: contact) but no stored event of "
    "type 'page_view' has it, so these rules never give points; those events have "
    "'url': check the name in the model or the import mapping"
)
ATTRIBUTE_WARNING = "the model reads attribute 'account.employes' (rules: big)"


def _misspelt(model: Path) -> Path:
    text = model.read_text(encoding="utf-8")
    for right, wrong in [
        ("event: unsubscribe", "event: unsubscrbe"),
        ("{url: {contains: contact}}", "{urls: {contains: contact}}"),
        ("account.employees", "account.employes"),
    ]:
        assert right in text
        text = text.replace(right, wrong)
    path = model.with_name("misspelt.yaml")
    path.write_text(text, encoding="utf-8")
    return path


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


def test_rescore_warns_about_misspelt_reads(workspace: tuple[str, Path]) -> None:
    db, model = workspace
    runner = CliRunner()
    args = ["rescore", "--at", "2025-02-06", "--format", "json"]
    clean = runner.invoke(app, ["--db", db, "--model", str(model), *args])
    assert clean.exit_code == 0, clean.output
    assert _warnings(clean.stderr) == []
    result = runner.invoke(app, ["--db", db, "--model", str(_misspelt(model)), *args])
    assert result.exit_code == 0, result.output
    warnings = _warnings(result.stderr)
    assert len(warnings) == 3
    assert warnings[0].startswith(f"warning: {ATTRIBUTE_WARNING} but no stored lead")
    assert warnings[1:] == [f"warning: {TYPE_WARNING}", f"warning: {PROPERTY_WARNING}"]
    json.loads(result.stdout)  # standard output stays clean


def test_backtest_warns_for_each_model_it_is_given(
    workspace: tuple[str, Path],
) -> None:
    db, model = workspace
    misspelt = _misspelt(model)
    period = ["--from", "2025-01-06", "--to", "2025-02-20", "--format", "json"]
    result = CliRunner().invoke(
        app,
        ["--db", db, "backtest", "--model", str(model), "--against", str(misspelt),
         *period],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    warnings = _warnings(result.stderr)
    assert [w.split(": ", 2)[1] for w in warnings] == [str(misspelt)] * 3
    assert f"warning: {misspelt}: {TYPE_WARNING}" in warnings
    assert f"warning: {misspelt}: {PROPERTY_WARNING}" in warnings
    assert any(ATTRIBUTE_WARNING in w for w in warnings)
    json.loads(result.stdout)
    swapped = CliRunner().invoke(
        app, ["--db", db, "backtest", "--model", str(misspelt), *period]
    )
    assert swapped.exit_code == 0, swapped.output
    assert f"warning: {misspelt}: {TYPE_WARNING}" in _warnings(swapped.stderr)
