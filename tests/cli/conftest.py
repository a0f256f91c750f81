"""A small real workspace for the command tests: the last bank contacts."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mql.cli.app import app
from mql.demo.bank import data_path, write_files

#: Bank contacts used by the command tests: the last rows (September to November
#: 2010, when most calls reached a mobile phone and many followed an earlier campaign).
SAMPLE_ROWS = 400
FIRST_ROW = 45_211 - SAMPLE_ROWS + 1


@dataclass(frozen=True)
class Sample:
    """Files of a small real data set and the demo's mappings and model."""

    leads: Path
    events: Path
    leads_mapping: Path
    events_mapping: Path
    model: Path


def _head(source: Path, target: Path, keep: Callable[[dict[str, str]], bool]) -> None:
    with (
        source.open(encoding="utf-8") as src,
        target.open("w", encoding="utf-8") as out,
    ):
        reader = csv.DictReader(src)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        writer.writerows(row for row in reader if keep(row))


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The last bank contacts and their calls, as CRM-style files."""
    folder = tmp_path_factory.mktemp("sample")
    full = write_files(folder / "full")
    leads, events = folder / "leads.csv", folder / "events.csv"
    _head(full.leads, leads, lambda row: int(row["client_id"]) >= FIRST_ROW)
    _head(full.events, events, lambda row: int(row["client_id"]) >= FIRST_ROW)
    return Sample(
        leads=leads,
        events=events,
        leads_mapping=data_path("leads.mapping.yaml"),
        events_mapping=data_path("events.mapping.yaml"),
        model=data_path("model.yaml"),
    )


@dataclass
class Cli:
    """Runs ``mql`` with a workspace's --db and --model."""

    db: str
    model: Path

    def __call__(self, *args: str | Path) -> Result:
        command = ["--db", self.db, "--model", str(self.model), *map(str, args)]
        # A wide terminal, so that tables do not cut rule names short.
        return CliRunner().invoke(app, command, env={"COLUMNS": "200"})


@pytest.fixture
def cli(tmp_path: Path, sample: Sample) -> Cli:
    """A fresh SQLite workspace using the demo model."""
    return Cli(db=f"sqlite:///{tmp_path / 'mql.db'}", model=sample.model)


@pytest.fixture
def loaded(cli: Cli, sample: Sample) -> Cli:
    """A workspace with the sample leads and events imported."""
    for kind, path, mapping in (
        ("leads", sample.leads, sample.leads_mapping),
        ("events", sample.events, sample.events_mapping),
    ):
        result = cli("import", kind, path, "--mapping", mapping)
        assert result.exit_code == 0, result.output
    return cli


@pytest.fixture
def bad_leads(tmp_path: Path, sample: Sample) -> Path:
    """The sample leads with one age that is not a number."""
    with sample.leads.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[2]["age"] = "forty"
    path = tmp_path / "bad.csv"
    with path.open("w", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
