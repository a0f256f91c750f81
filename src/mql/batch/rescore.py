"""Rescoring every lead at one instant with the batch engine."""

from __future__ import annotations

import datetime as dt
import logging
import time

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from mql.batch.compiler import compile_state, group_columns
from mql.batch.engines import as_table, connect
from mql.batch.layout import LEAD_KEY, UTC_TIMESTAMP, epoch_seconds
from mql.batch.until import Floats, mql_until
from mql.model.schema import Model

log = logging.getLogger(__name__)

MICROS = 1_000_000


def _column(table: pa.Table, name: str) -> Floats:
    values = table[name].to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _timestamps(seconds: Floats) -> pa.Array:
    micros = np.round(seconds * MICROS)
    mask = np.isnan(micros)
    values = np.where(mask, 0, micros).astype(np.int64)
    return pa.array(values, type=pa.int64(), mask=mask).cast(UTC_TIMESTAMP)


def with_mql_until(
    model: Model,
    result: pa.Table,
    at: float | Floats,
) -> pa.Table:
    """Add ``mql_until`` (UTC timestamp, null for none) and ``last_activity``.

    ``at`` is the instant the state was read at: one for all, or one per lead.
    """
    names = ["fit", "last_ts"] + [
        c for g in model.groups for c in group_columns(g.id)[:2]
    ]
    state = {name: _column(result, name) for name in names}
    mql = result["mql"].to_numpy(zero_copy_only=False).astype(bool)
    until = mql_until(model, state, mql, at)
    result = result.append_column("last_activity", _timestamps(state["last_ts"]))
    return result.append_column("mql_until", _timestamps(until))


def rescore(
    model: Model,
    events: ir.Table | pa.Table,
    leads: ir.Table | pa.Table,
    at: dt.datetime,
    backend: BaseBackend | None = None,
    *,
    dedupe: bool = True,
) -> pa.Table:
    """Every lead's score, grade, MQL flag and mql_until at ``at``, one row per lead.

    ``events`` and ``leads`` follow :mod:`mql.batch.layout`; Arrow tables are
    uploaded to ``backend`` (DuckDB in memory when none is given).
    """
    started = time.perf_counter()
    seconds = epoch_seconds(at)
    backend = backend or connect("duckdb")
    expr = compile_state(
        model,
        as_table(backend, events, "events"),
        as_table(backend, leads, "leads"),
        seconds,
        dedupe=dedupe,
    )
    result = backend.to_pyarrow(expr).drop_columns(["activities"])
    result = with_mql_until(model, result, seconds)
    result = result.sort_by(LEAD_KEY)
    log.info(
        "rescored %d leads at %s on %s: %d MQLs in %.2fs",
        result.num_rows,
        at.isoformat(),
        backend.name,
        pc.sum(result["mql"]).as_py() or 0,
        time.perf_counter() - started,
    )
    return result
