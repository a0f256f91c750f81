"""The batch engine over the store: read leads and events, rescore them all on
an engine, and write each lead's state back to ``lead_scores``.

The rows written are those the per-lead path writes (``mql.workspace``): the state
read at each lead's last activity, so that "who is an MQL at T" stays a range
query on (mql, mql_until), and the incremental path can carry on from them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import sqlalchemy as sa
from ibis.backends import BaseBackend
from sqlalchemy.engine import Connection

from mql.batch.compiler import (
    compile_state,
    fit_rules_holding,
    group_columns,
    repeat_counters,
)
from mql.batch.engines import as_table, connect
from mql.batch.layout import (
    LEAD_KEY,
    UTC_TIMESTAMP,
    as_text,
    epoch_seconds,
    event_properties,
    lead_attributes,
    leads_table,
)
from mql.batch.rescore import with_mql_until
from mql.ingest.identity import registered_domain
from mql.model.schema import Model
from mql.store import reads
from mql.store.store import Store
from mql.store.tables import events as events_t
from mql.store.tables import leads as leads_t

log = logging.getLogger(__name__)

#: Events fetched from the store per round trip.
FETCH_ROWS = 50_000
#: The stored read of a lead without activity (same as the per-lead path).
NO_ACTIVITY_AS_OF = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: The per-lead engine's state format that these rows follow.
STATE_FORMAT = 1


@dataclass(frozen=True)
class RescoreReport:
    """What a store rescore did: counts, MQLs gained and lost, duration."""

    engine: str
    at: dt.datetime
    leads: int
    events: int
    mqls: int
    gained: int
    lost: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """The report as plain values."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _events_arrow(conn: Connection, at: dt.datetime, properties: list[str]) -> pa.Table:
    """The store's events up to ``at`` in the engine's layout.

    Rows come as the driver gives them (timestamps untouched, properties as JSON
    text); Arrow parses the timestamps and the JSON in bulk. Where some property
    read is not a string (a number, a boolean, an object), every event's JSON is
    decoded here instead, so each value reads as :func:`as_text` makes it.
    """
    query = sa.select(
        events_t.c.lead_id,
        events_t.c.event_key,
        events_t.c.type,
        sa.type_coerce(events_t.c.at, sa.String),
        sa.cast(events_t.c.properties, sa.Text),
    ).where(events_t.c.at <= at)
    rows = conn.execution_options(yield_per=FETCH_ROWS).execute(query).all()
    cols = list(zip(*rows, strict=True)) if rows else [()] * 5
    stamps = _utc_micros(cols[3])
    return pa.table(
        {
            LEAD_KEY: pa.array([str(v) for v in cols[0]], pa.string()),
            "id": pa.array(cols[1], pa.string()),
            "type": pa.array(cols[2], pa.string()),
            "at": stamps,
            "ts": pc.divide(stamps.cast(pa.int64()).cast(pa.float64()), 1e6),
            **_property_columns(cols[4], properties),
        }
    )


def _property_columns(
    texts: tuple[str, ...], properties: list[str]
) -> dict[str, pa.Array]:
    """The properties read, as text, from each event's JSON object."""
    if not properties:
        return {}
    schema = pa.schema([(name, pa.string()) for name in properties])
    options = pa_json.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="ignore"
    )
    # One object a line, as the store writes them (a line break would only sit
    # between tokens of a hand-written object: those are decoded one by one).
    if texts and not any("\n" in text for text in texts):
        lines = "\n".join(texts).encode()
        try:
            table = pa_json.read_json(io.BytesIO(lines), parse_options=options)
        except pa.ArrowInvalid:
            pass  # a value that is not a string: decoded one by one below
        else:
            if table.num_rows == len(texts):
                return {name: table[name].combine_chunks() for name in properties}
    decoded = [json.loads(text) or {} for text in texts]
    return {
        name: pa.array([as_text(props.get(name)) for props in decoded], pa.string())
        for name in properties
    }


def _utc_micros(values: tuple[Any, ...]) -> pa.Array:
    """UTC timestamps from what the driver gave: aware datetimes, or SQLite's text
    of the UTC wall time (``2025-01-31 09:30:00.000000``)."""
    if values and isinstance(values[0], str):
        naive = pa.array(values, pa.string()).cast(pa.timestamp("us"))
        return naive.cast(UTC_TIMESTAMP)
    return pa.array(values, UTC_TIMESTAMP)


def read_store(
    store: Store, models: Model | list[Model], at: dt.datetime
) -> tuple[pa.Table, pa.Table]:
    """The store's leads and events (up to ``at``) in the batch engine's layout,
    with the columns the models read."""
    models = models if isinstance(models, list) else [models]
    properties = sorted({p for m in models for p in event_properties(m)})
    attributes = sorted({a for m in models for a in lead_attributes(m)})
    with store.engine.connect() as conn:
        inputs = reads.load_leads(conn, email_domain=registered_domain)
        converted = {
            str(row.id): row.converted_at
            for row in conn.execute(
                sa.select(leads_t.c.id, leads_t.c.converted_at).where(
                    leads_t.c.converted_at.is_not(None)
                )
            )
        }
        leads = leads_table(
            ((str(i), lead.attributes) for i, lead in inputs.items()),
            attributes,
            converted,
        )
        events = _events_arrow(conn, at, properties)
    return events, leads


def _state_json(
    model: Model, row: dict[str, Any], counters: dict[str, Any], fits: dict[str, Any]
) -> dict[str, Any]:
    """The per-lead engine's state (``LeadState.to_json``) from batch columns."""
    fired_once, once_per, counts = [], {}, {}
    for k, rule in enumerate(model.intent):
        mode = rule.repeat.mode
        if mode == "once" and counters.get(f"once{k}"):
            fired_once.append(rule.id)
        elif mode == "min_count" and counters.get(f"count{k}"):
            counts[rule.id] = min(int(counters[f"count{k}"]), rule.repeat.count or 1)
        elif mode == "once_per" and counters.get(f"keys{k}"):
            once_per[rule.id] = sorted(set(counters[f"keys{k}"]))
    last = row["last_activity"]
    return {
        "format": STATE_FORMAT,
        "fit": row["fit"],
        "fit_rules": [r.id for i, r in enumerate(model.fit) if fits.get(f"fit{i}")],
        "disqualifier": row["disqualified_by"],
        "disqualified_reason": row["disqualified_reason"],
        "positive": {g.id: row[group_columns(g.id)[0]] for g in model.groups},
        "negative": {g.id: row[group_columns(g.id)[1]] for g in model.groups},
        "last_activity": last.isoformat() if last is not None else None,
        "last_event_id": counters.get("last_event_id"),
        "fired_once": sorted(fired_once),
        "once_per": dict(sorted(once_per.items())),
        "match_counts": dict(sorted(counts.items())),
        "activities": int(row["activities"]),
    }


def score_rows(
    model: Model,
    events: pa.Table,
    leads: pa.Table,
    at: dt.datetime,
    backend: BaseBackend,
    fingerprint: str,
    dedupe: bool = True,
) -> list[dict[str, Any]]:
    """``lead_scores`` rows for every lead, each read at its last activity.

    Set ``dedupe=False`` only when event ids are unique per lead (as in the store).
    """
    seconds = epoch_seconds(at)
    ev, ld = as_table(backend, events, "events"), as_table(backend, leads, "leads")
    state = backend.to_pyarrow(
        compile_state(model, ev, ld, seconds, dedupe, at_last_activity=True)
    )
    last = state["last_ts"].to_numpy(zero_copy_only=False).astype(np.float64)
    state = with_mql_until(model, state, np.where(np.isnan(last), seconds, last))
    counters = {
        r[LEAD_KEY]: r
        for r in backend.to_pyarrow(
            repeat_counters(model, ev, seconds, dedupe)
        ).to_pylist()
    }
    fits = {
        r[LEAD_KEY]: r
        for r in backend.to_pyarrow(fit_rules_holding(model, ld)).to_pylist()
    }
    now = dt.datetime.now(dt.UTC)
    rows = []
    for row in state.to_pylist():
        lead = row[LEAD_KEY]
        last_at = row["last_activity"]
        rows.append(
            {
                "lead_id": int(lead),
                "fit": row["fit"],
                "grade": row["grade"],
                "group_values": {
                    g.id: row[group_columns(g.id)[2]] for g in model.groups
                },
                "last_activity": last_at,
                "score": row["score"],
                "as_of": last_at if last_at is not None else NO_ACTIVITY_AS_OF,
                "mql": bool(row["mql"]),
                "mql_until": row["mql_until"],
                "disqualified_reason": row["disqualified_reason"],
                "state": _state_json(
                    model, row, counters.get(lead, {}), fits.get(lead, {})
                ),
                "model_fingerprint": fingerprint,
                "updated_at": now,
            }
        )
    return rows


def rescore_store(
    store: Store,
    model: Model,
    at: dt.datetime | None = None,
    engine: str = "duckdb",
    url: str | None = None,
) -> RescoreReport:
    """Rescore every lead of the store on ``engine`` and write the states back.

    MQLs gained and lost compare who is an MQL at ``at`` before and after.
    """
    from mql.workspace import model_fingerprint

    started = time.perf_counter()
    at = at or dt.datetime.now(dt.UTC)
    epoch_seconds(at)
    fingerprint = model_fingerprint(model)
    # The engine first: one that cannot be reached fails before the store is read.
    backend = connect(engine, url)
    events, leads = read_store(store, model, at)
    # The store's event keys are unique: no copies to drop.
    rows = score_rows(model, events, leads, at, backend, fingerprint, dedupe=False)
    with store.begin() as conn:
        before = set(reads.mql_candidates(conn, fingerprint, at))
        reads.save_scores(conn, rows, replace_all=True)
        after = set(reads.mql_candidates(conn, fingerprint, at))
    report = RescoreReport(
        engine=engine,
        at=at,
        leads=len(rows),
        events=events.num_rows,
        mqls=len(after),
        gained=len(after - before),
        lost=len(before - after),
        seconds=time.perf_counter() - started,
    )
    log.info(
        "rescored %d leads (%d events) on %s at %s: %d MQLs, +%d -%d, %.2fs",
        report.leads,
        report.events,
        engine,
        at.isoformat(),
        report.mqls,
        report.gained,
        report.lost,
        report.seconds,
    )
    return report
