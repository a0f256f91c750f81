"""``mql demo``: real public data imported, scored and compared with the outcome.

The steps are the ones a user takes with a CRM export: write the files, import
them with mapping files, score with a model file, list and explain the MQLs. How
the MQL list is judged against the outcome is in :mod:`mql.demo.backtest`. The top
MQLs shown are those at 00:00 UTC on the day after the last call in the data.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from rich.console import Console

from mql.cli.records import import_counts
from mql.demo.backtest import Outcome, day_start, judge
from mql.demo.bank import BankFiles, data_path, write_files
from mql.demo.report import REASONS_SHOWN, DemoReport, Reason
from mql.errors import InputError
from mql.model import Model, load_model
from mql.scoring import Explanation
from mql.store import Store
from mql.workspace import (
    explain_lead,
    import_events,
    import_leads,
    mqls,
    open_workspace,
    rescore,
)

logger = logging.getLogger(__name__)

DATABASE_FILE = "mql-demo.db"
MODEL_FILE = "mql.yaml"
#: The files a demo run writes, removed before the next run (nothing else is).
DEMO_FILES = (DATABASE_FILE, MODEL_FILE, "bank-leads.csv", "bank-events.csv")


def run_demo(folder: Path, top: int = 10, console: Console | None = None) -> DemoReport:
    """Make a fresh demo workspace in ``folder``, import, score and compare."""
    started = time.perf_counter()
    steps: dict[str, float] = {}
    _fresh(folder)
    with _step(steps, "prepare", console, "Writing the bank data as CRM exports"):
        files = write_files(folder)
        model_path = folder / MODEL_FILE
        shutil.copyfile(data_path("model.yaml"), model_path)
        model = load_model(model_path)
    database = f"sqlite:///{folder / DATABASE_FILE}"
    instant = day_start(files.last_day + timedelta(days=1))
    store = open_workspace(database)
    try:
        with _step(steps, "import", console, "Importing leads and events"):
            imports = _import(store, files)
        with _step(
            steps, "score", console, f"Scoring every lead at {instant:%Y-%m-%d}"
        ):
            rescore(store, model, at=instant)
        with _step(steps, "compare", console, "Judging each monthly wave"):
            comparison, wave_count = judge(store, model, outcomes(files))
        with _step(steps, "mqls", console, "Listing and explaining the top MQLs"):
            everyone = mqls(store, model, instant)
            shown = everyone[:top]
            reasons = {
                row.lead: reasons_of(
                    model,
                    explain_lead(store, model, f"id:{row.lead}", instant).explanation,
                )
                for row in shown
            }
    finally:
        store.close()
    report = DemoReport(
        folder=folder,
        database=database,
        model=model_path,
        imports=imports,
        instant=instant,
        comparison=comparison,
        cohorts=wave_count,
        top=shown,
        reasons=reasons,
        mqls_now=len(everyone),
        seconds=time.perf_counter() - started,
        steps=steps,
    )
    logger.info(
        "demo in %s: %d MQLs of %d contacts, lift %.2f, in %.1fs",
        folder,
        comparison.mqls,
        comparison.contacts,
        comparison.lift,
        report.seconds,
    )
    return report


def _fresh(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} is a file; choose a folder for the demo with --dir")
    folder.mkdir(parents=True, exist_ok=True)
    for name in DEMO_FILES:
        (folder / name).unlink(missing_ok=True)


@contextmanager
def _step(
    steps: dict[str, float], name: str, console: Console | None, text: str
) -> Iterator[None]:
    began = time.perf_counter()
    if console is None:
        yield
    else:
        with console.status(f"{text}..."):
            yield
        console.print(f"{text}: {time.perf_counter() - began:.1f}s", highlight=False)
    steps[name] = time.perf_counter() - began


def _import(store: Store, files: BankFiles) -> dict[str, dict[str, int]]:
    leads = import_leads(store, files.leads, mapping=data_path("leads.mapping.yaml"))
    events = import_events(
        store, files.events, mapping=data_path("events.mapping.yaml")
    )
    return {"leads": import_counts(leads), "events": import_counts(events)}


def outcomes(files: BankFiles) -> dict[str, Outcome]:
    """Each lead's wave (the month of its last call) and whether it subscribed."""
    leads = pd.read_csv(files.leads, usecols=["client_id", "subscribed"])
    events = pd.read_csv(files.events, usecols=["client_id", "type", "date"])
    calls = events[events["type"] == "campaign_call"]
    frame = leads.merge(calls, on="client_id", validate="1:1")
    return {
        str(client): Outcome(date.fromisoformat(day[: len("YYYY-MM")] + "-01"), yes)
        for client, day, yes in zip(
            frame["client_id"],
            frame["date"],
            frame["subscribed"].eq("yes"),
            strict=True,
        )
    }


def reasons_of(model: Model, explained: Explanation) -> list[Reason]:
    """The largest contributions to a score, with the rules' labels."""
    labels = {rule.id: rule.label or rule.id for rule in (*model.fit, *model.intent)}
    entries = sorted(
        (e for e in explained.entries if e.rule is not None),
        key=lambda e: -abs(e.value),
    )
    return [
        Reason(
            rule=str(e.rule), label=labels.get(str(e.rule), str(e.rule)), value=e.value
        )
        for e in entries[:REASONS_SHOWN]
    ]
