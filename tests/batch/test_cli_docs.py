"""The batch commands' documentation: fields in docs/cli.md, the library example
of docs/batch.md runs and lists the columns the engine returns."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pyarrow as pa
import typer

from mql.cli.app import app
from mql.cli.batch_commands import OUTCOME_FIELDS, PERIOD_FIELDS, RESCORE_FIELDS
from mql.cli.reference import reference

BATCH_DOC = Path(__file__).resolve().parents[2] / "docs" / "batch.md"


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n### ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_reference_lists_every_field_of_rescore_and_backtest() -> None:
    text = reference(typer.main.get_command(app))
    for heading, fields in [
        ("### Rescore report", RESCORE_FIELDS),
        ("### Backtest period rows", PERIOD_FIELDS),
        ("### Backtest outcome rows", OUTCOME_FIELDS),
    ]:
        rows = re.findall(r"^\| `(\w+)` \|", _section(text, heading), re.MULTILINE)
        assert rows == list(fields), heading


def test_the_library_example_runs_and_names_the_columns() -> None:
    doc = BATCH_DOC.read_text(encoding="utf-8")
    library = _section(doc.replace("\n## ", "\n### "), "### Library")
    code = re.search(r"```python\n(.*?)```", library, re.DOTALL)
    assert code is not None
    namespace: dict[str, object] = {}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code.group(1), str(BATCH_DOC), "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, pa.Table)
    assert "'lead': 'ann'" in printed.getvalue()
    prose = " ".join(library[code.end() :].split())
    listing = prose.split("in this order:")[1].split("(the next")[0]
    documented = re.findall(r"`(\w+(?:<group>)?)`", listing)
    groups = ["web"]
    expected = [
        name.replace("<group>", g) if "<group>" in name else name
        for name in documented
        for g in (groups if "<group>" in name else [""])
    ]
    assert expected == result.column_names
