"""Judging the demo's MQLs wave by wave, on the batch engine, against the outcome.

The bank called clients month after month; each calendar month is taken as one
wave. The clients called in a month are judged at 00:00 UTC on the first day of
the next month (the day after the wave ends), as a marketer handing the month's
leads to advisers would: a client counts as an MQL when the model says so at that
instant, and as a converter when the data says the client subscribed.

The leads and events are read back from the store (what the import kept), and each
wave is scored by the batch engine (:func:`mql.batch.rescore`), which follows the
same contract as the per-lead engine (docs/scoring.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from mql.batch import event_properties, events_table, lead_attributes, leads_table
from mql.batch import rescore as batch_rescore
from mql.demo.compare import Comparison, compare
from mql.errors import InputError
from mql.model import Model
from mql.store import Store, reads

logger = logging.getLogger(__name__)

#: Days that take any first-of-month date into the next month.
INTO_NEXT_MONTH = 32


@dataclass(frozen=True)
class Wave:
    """The leads called in one calendar month and the instant they are judged."""

    month: date
    judged_at: datetime
    leads: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """One lead's wave (the month of its last call) and whether it converted."""

    month: date
    converted: bool


def day_start(day: date) -> datetime:
    """00:00 UTC on a day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def waves(outcomes: Mapping[str, Outcome]) -> list[Wave]:
    """One wave per month with calls, judged on the 1st of the next month.

    >>> w = waves({"1": Outcome(date(2008, 12, 1), True)})
    >>> w[0].judged_at.isoformat()
    '2009-01-01T00:00:00+00:00'
    """
    months: dict[date, set[str]] = {}
    for lead, outcome in outcomes.items():
        months.setdefault(outcome.month, set()).add(lead)
    out = []
    for month in sorted(months):
        following = (month + timedelta(days=INTO_NEXT_MONTH)).replace(day=1)
        out.append(Wave(month, day_start(following), frozenset(months[month])))
    return out


def engine_tables(store: Store, model: Model) -> tuple[pa.Table, pa.Table]:
    """The batch engine's leads and events tables, read from the store.

    The engine's lead key is the lead's external id (the demo's row number).
    """
    with store.engine.connect() as conn:
        leads = reads.load_leads(conn)
        events = reads.load_events(conn)
    key = {lead_id: lead.external_id or str(lead_id) for lead_id, lead in leads.items()}
    lead_rows = ((key[i], lead.attributes) for i, lead in leads.items())
    event_rows = (
        (key[i], row.key, row.type, row.at, row.properties)
        for i, rows in events.items()
        for row in rows
    )
    return (
        leads_table(lead_rows, lead_attributes(model)),
        events_table(event_rows, event_properties(model)),
    )


def judge(
    store: Store, model: Model, outcomes: Mapping[str, Outcome]
) -> tuple[Comparison, int]:
    """Each wave's MQL flags at its instant compared with the outcomes."""
    leads, events = engine_tables(store, model)
    flags: dict[str, bool] = {}
    all_waves = waves(outcomes)
    for wave in all_waves:
        members = pa.array(sorted(wave.leads), pa.string())
        result = batch_rescore(
            model,
            events.filter(pc.is_in(events["lead"], value_set=members)),
            leads.filter(pc.is_in(leads["lead"], value_set=members)),
            wave.judged_at,
        )
        flags.update(
            zip(result["lead"].to_pylist(), result["mql"].to_pylist(), strict=True)
        )
    missing = set(outcomes) - set(flags)
    if missing:
        raise InputError(
            f"{len(missing)} demo leads are not in the store (e.g. "
            f"{sorted(missing)[:3]}); the import did not keep them, see "
            "`mql quarantine list`"
        )
    pairs = ((flags[lead], outcome.converted) for lead, outcome in outcomes.items())
    return compare(pairs), len(all_waves)
