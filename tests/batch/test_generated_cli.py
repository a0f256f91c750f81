"""The benchmark's generated data through the command line: ``mql import`` with the
mappings in benchmarks/, then ``mql rescore`` and ``mql backtest``, checked
against the batch engine run directly on the generated Parquet files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from mql.batch import connect, lead_attributes, rescore
from mql.cli.app import app
from mql.model import Model, load_model
from mql.scoring import LeadState, read
from mql.store import open_store, reads
from mql.store.tables import accounts, events, lead_scores, leads

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
MODEL = BENCHMARKS / "model.yaml"
LEADS, EVENTS = 400, 25_000
AT = datetime(2025, 12, 4, tzinfo=UTC)
#: Monthly from 4 January to 4 December 2025: the period ends asked for.
ENDS = [datetime(2025, month, 4, tzinfo=UTC) for month in range(1, 13)]
COUNTS = re.compile(
    r"read ([\d,]+), imported ([\d,]+), updated ([\d,]+), duplicates ([\d,]+), "
    r"quarantined ([\d,]+)"
)


@dataclass(frozen=True)
class Run:
    """The generated files, the store they went into and what the commands printed."""

    folder: Path
    db: str
    imported: dict[str, tuple[int, ...]]
    rescored: dict[str, Any]
    mqls: list[dict[str, Any]]
    backtest: dict[str, Any]


def _cli(*args: str, quiet: bool = False) -> str:
    """Run a command; with ``quiet``, it must print nothing on standard error (an
    import warns there about attributes the model reads that no lead has)."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    if quiet:
        assert result.stderr == "", result.stderr
    return result.stdout


def _counts(stdout: str) -> tuple[int, ...]:
    found = COUNTS.search(" ".join(stdout.split()))
    assert found is not None, stdout
    return tuple(int(n.replace(",", "")) for n in found.groups())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("generated")
    subprocess.run(
        [sys.executable, str(BENCHMARKS / "generate.py"), "--leads", str(LEADS),
         "--events", str(EVENTS), "--out", str(folder)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    db = f"sqlite:///{folder / 'mql.db'}"
    common = ("--db", db, "--model", str(MODEL))
    imported = {}
    for kind in ("leads", "events"):
        mapping = BENCHMARKS / f"{kind}.mapping.yaml"
        printed = _cli(*common, "import", kind, str(folder / f"{kind}.parquet"),
                       "--mapping", str(mapping), quiet=True)  # fmt: skip
        imported[kind] = _counts(printed)
    (rescored,) = json.loads(
        _cli(*common, "rescore", "--at", AT.date().isoformat(), "--format", "json")
    )
    mqls = json.loads(
        _cli(*common, "mqls", "--at", AT.date().isoformat(), "--format", "json")
    )
    backtest = json.loads(
        _cli("--db", db, "backtest", "--model", str(MODEL),
             "--from", ENDS[0].date().isoformat(), "--to", ENDS[-1].date().isoformat(),
             "--every", "month", "--format", "json")
    )  # fmt: skip
    return Run(folder, db, imported, rescored, mqls, backtest)


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(MODEL)


def _direct(model: Model, folder: Path, at: datetime) -> dict[str, dict[str, Any]]:
    """``mql.batch.rescore`` on the generated Parquet files, by lead id."""
    con = connect("duckdb")
    result = rescore(
        model,
        con.read_parquet(folder / "events.parquet"),
        con.read_parquet(folder / "leads.parquet"),
        at,
        con,
        dedupe=False,
    )
    return {row["lead"]: row for row in result.to_pylist()}


def _file(run: Run, kind: str) -> pa.Table:
    return pq.read_table(run.folder / f"{kind}.parquet")


@pytest.mark.slow
def test_every_generated_row_is_imported(run: Run) -> None:
    lead_file, event_file = _file(run, "leads"), _file(run, "events")
    # read, imported, updated, duplicates, quarantined
    assert run.imported["leads"] == (lead_file.num_rows, lead_file.num_rows, 0, 0, 0)
    assert run.imported["events"] == (
        event_file.num_rows,
        event_file.num_rows,
        0,
        0,
        0,
    )
    store = open_store(run.db)
    with store.engine.connect() as conn:
        count = sa.func.count()
        assert conn.scalar(sa.select(count).select_from(leads)) == LEADS
        assert conn.scalar(sa.select(count).select_from(events)) == EVENTS
        # One account per generated account id, every lead on one.
        assert conn.scalar(sa.select(count).select_from(accounts)) == len(
            pc.unique(lead_file["account_id"])
        )
        no_account = sa.select(count).where(leads.c.account_id.is_(None))
        assert conn.scalar(no_account) == 0
        converted = sa.select(count).where(leads.c.converted_at.is_not(None))
        assert conn.scalar(converted) == (
            lead_file.num_rows - lead_file["converted_at"].null_count
        )


@pytest.mark.slow
def test_stored_attributes_are_the_files(run: Run, model: Model) -> None:
    """What scoring reads of each lead, account attributes included, is the
    generated row (blank text is no value on both sides)."""
    store = open_store(run.db)
    with store.engine.connect() as conn:
        stored = {
            lead.external_id: lead.attributes
            for lead in reads.load_leads(conn).values()
        }
    names = lead_attributes(model)
    assert "account.industry" in names
    for row in _file(run, "leads").to_pylist():
        expected = {n: row[n] for n in names if row[n] is not None and row[n].strip()}
        got = {n: stored[row["lead"]][n] for n in names if n in stored[row["lead"]]}
        assert got == expected, row["lead"]


@pytest.mark.slow
def test_rescore_agrees_with_the_engine_on_the_files(run: Run, model: Model) -> None:
    direct = _direct(model, run.folder, AT)
    at_or_before = pc.less_equal(_file(run, "events")["at"], pa.scalar(AT))
    assert run.rescored["leads"] == LEADS
    assert run.rescored["events"] == pc.sum(at_or_before).as_py()
    direct_mqls = {lead for lead, row in direct.items() if row["mql"]}
    assert 0 < len(direct_mqls) < LEADS
    assert run.rescored["mqls"] == len(direct_mqls)
    # The MQLs `mql mqls` prints, read from the stored states at the same instant.
    assert {row["external_id"] for row in run.mqls} == direct_mqls
    for row in run.mqls:
        expected = direct[row["external_id"]]["score"]
        assert row["score"] == pytest.approx(expected, rel=1e-9), row["external_id"]


@pytest.mark.slow
def test_every_stored_state_reads_as_the_engines_score(run: Run, model: Model) -> None:
    direct = _direct(model, run.folder, AT)
    store = open_store(run.db)
    query = sa.select(leads.c.external_id, lead_scores.c.state).join(
        lead_scores, lead_scores.c.lead_id == leads.c.id
    )
    with store.engine.connect() as conn:
        stored = conn.execute(query).all()
    assert len(stored) == LEADS
    for external_id, state in stored:
        got = read(model, LeadState.from_json(state), AT)
        want = direct[external_id]
        assert got.score == pytest.approx(want["score"], rel=1e-9), external_id
        assert (got.mql, got.grade) == (want["mql"], want["grade"]), external_id


def _outcome(first: np.ndarray, converted: np.ndarray) -> dict[str, Any]:
    was_mql, did_convert = ~np.isnan(first), ~np.isnan(converted)
    from_start = did_convert & (np.nan_to_num(converted) >= ENDS[0].timestamp())
    before = was_mql & did_convert & (first <= converted)
    days = (converted[before] - first[before]) / 86_400
    return {
        "converted": int(did_convert.sum()),
        "converted_from_start": int(from_start.sum()),
        "converted_were_mql": int(before.sum()),
        "median_days_earlier": float(np.median(days)) if days.size else None,
        "mean_days_earlier": float(np.mean(days)) if days.size else None,
        "mqls": int(was_mql.sum()),
        "mqls_never_converted": int((was_mql & ~did_convert).sum()),
    }


@pytest.mark.slow
def test_backtest_matches_the_files(run: Run, model: Model) -> None:
    periods, (outcome,) = run.backtest["periods"], run.backtest["outcomes"]
    assert [p["period_end"] for p in periods] == [
        end.isoformat().replace("+00:00", "Z") for end in ENDS
    ]
    lead_file = _file(run, "leads")
    ids = lead_file["lead"].to_pylist()
    converted = np.array(
        [
            np.nan if t is None else t.timestamp()
            for t in lead_file["converted_at"].to_pylist()
        ]
    )
    assert (~np.isnan(converted)).sum() > 0
    first = np.full(len(ids), np.nan)
    previous = np.zeros(len(ids), dtype=bool)
    for end, period in zip(ENDS, periods, strict=True):
        flags = _direct(model, run.folder, end)
        mql = np.array([bool(flags[lead]["mql"]) for lead in ids])
        assert (period["mqls"], period["gained"], period["lost"]) == (
            int(mql.sum()),
            int((mql & ~previous).sum()),
            int((previous & ~mql).sum()),
        ), period["period_end"]
        first = np.where(np.isnan(first) & mql, end.timestamp(), first)
        previous = mql
    expected = _outcome(first, converted)
    assert expected["converted_were_mql"] > 0
    for key in ("median_days_earlier", "mean_days_earlier"):
        assert outcome.pop(key) == pytest.approx(expected.pop(key), rel=1e-9)
    outcome.pop("model")
    assert outcome == expected


def test_the_documented_commands_name_the_shipped_files() -> None:
    doc = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    start = doc.index("## The benchmark's data through the command line")
    block = re.search(r"```sh\n(.*?)```", doc[start:], re.DOTALL)
    assert block is not None
    commands = block.group(1).replace("\\\n", " ")
    named = re.findall(r"--(?:mapping|model) (\S+)", commands)
    assert sorted(set(named)) == [
        "benchmarks/events.mapping.yaml",
        "benchmarks/leads.mapping.yaml",
        "benchmarks/model.yaml",
    ]
    assert all((ROOT / path).is_file() for path in named)
    for step in ("import leads", "import events", "rescore --at", "backtest"):
        assert f" {step} " in commands, step
