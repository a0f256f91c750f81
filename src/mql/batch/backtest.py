"""Backtests: replay history under one or two models and compare their MQLs with
what the leads later did.

Each period end is a full rescore with the batch engine, so an MQL is "seen" at
the period ends only: a lead that was an MQL for a few days between two of them is
not counted. ``days_earlier`` is measured from the first period end at which the
lead was an MQL, so it is exact to the period.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
from ibis.backends import BaseBackend

from mql.batch.compiler import compile_state
from mql.batch.engines import as_table, connect
from mql.batch.layout import CONVERTED_AT, LEAD_KEY, epoch_seconds
from mql.errors import InputError
from mql.model.schema import Model

log = logging.getLogger(__name__)

SECONDS_PER_DAY = 86_400.0
#: A backtest of more period ends than this is almost certainly a typo in --every.
MAX_PERIODS = 1_000


@dataclass(frozen=True)
class PeriodRow:
    """MQLs under one model at one period end, and the change since the last one."""

    period_end: dt.datetime
    model: str
    mqls: int
    gained: int
    lost: int


@dataclass(frozen=True)
class OutcomeRow:
    """How one model's MQLs compare with the leads' known conversions."""

    model: str
    converted: int
    converted_from_start: int
    converted_were_mql: int
    median_days_earlier: float | None
    mean_days_earlier: float | None
    mqls: int
    mqls_never_converted: int


@dataclass(frozen=True)
class Backtest:
    """The rows of a backtest: per period and model, then per model."""

    periods: list[PeriodRow]
    outcomes: list[OutcomeRow]


@dataclass(frozen=True)
class Months:
    """A period of whole calendar months (``Months(1)``: monthly, ``Months(3)``:
    quarterly). Each period end falls on the start's day of the month, or on the
    month's last day when it is shorter (31 January, 28 February, 31 March...)."""

    count: int

    def __str__(self) -> str:
        return f"{self.count} month{'s' if self.count != 1 else ''}"


def add_months(start: dt.datetime, months: int) -> dt.datetime:
    """``start`` moved by whole months, its day clamped to the month's length.

    >>> from datetime import datetime, timezone
    >>> add_months(datetime(2025, 1, 31, tzinfo=timezone.utc), 1).date()
    datetime.date(2025, 2, 28)
    """
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return start.replace(
        year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1])
    )


def shown_instant(instant: dt.datetime) -> str:
    """An instant as the user wrote it: a date at midnight UTC, else ISO 8601."""
    utc = instant.astimezone(dt.UTC)
    if utc.time() == dt.time(0):
        return utc.date().isoformat()
    return utc.isoformat().replace("+00:00", "Z")


def period_ends(
    start: dt.datetime,
    end: dt.datetime,
    every: dt.timedelta | Months,
    every_text: str | None = None,
) -> list[dt.datetime]:
    """``start``, ``start + every``, ... while before ``end``, then ``end`` itself.

    The last period is shorter when ``every`` does not divide the range, so that
    the last row is always at ``end``. ``every_text`` is ``every`` as the user
    wrote it, for messages.

    >>> from datetime import datetime, timedelta, timezone
    >>> t = datetime(2025, 1, 1, tzinfo=timezone.utc)
    >>> len(period_ends(t, t + timedelta(days=28), timedelta(weeks=1)))
    5
    >>> [e.day for e in period_ends(t, t + timedelta(days=10), timedelta(weeks=1))]
    [1, 8, 11]
    """
    epoch_seconds(start, "--from")
    epoch_seconds(end, "--to")
    given = f"--every {every_text or every}"
    if end < start:
        raise InputError(
            f"a backtest needs --from before --to; got --from {shown_instant(start)} "
            f"after --to {shown_instant(end)}: swap them"
        )
    if (every.count if isinstance(every, Months) else every / dt.timedelta(1)) <= 0:
        raise InputError(f"{given} is not a positive period; use e.g. week or month")
    if isinstance(every, Months):
        months = (end.year - start.year) * 12 + end.month - start.month
        count = months // every.count + 2
    else:
        count = int((end - start) / every) + 2
    if count - 1 > MAX_PERIODS:
        raise InputError(
            f"{given} gives about {count - 1} period ends from "
            f"{shown_instant(start)} to {shown_instant(end)}; at most {MAX_PERIODS}: "
            "choose a longer --every"
        )
    steps = (_step(start, every, k) for k in range(count))
    return [*(t for t in steps if t < end), end]


def _step(start: dt.datetime, every: dt.timedelta | Months, k: int) -> dt.datetime:
    if isinstance(every, Months):
        return add_months(start, k * every.count)
    return start + k * every


def _mql_flags(
    model: Model,
    events: ir.Table,
    leads: ir.Table,
    at: dt.datetime,
    backend: BaseBackend,
    dedupe: bool,
) -> np.ndarray:
    expr = compile_state(model, events, leads, epoch_seconds(at), dedupe).select(
        LEAD_KEY, "mql"
    )
    table = backend.to_pyarrow(expr.order_by(LEAD_KEY))
    return np.asarray(table["mql"].to_numpy(zero_copy_only=False), dtype=bool)


def _conversions(leads: ir.Table, backend: BaseBackend) -> np.ndarray:
    """Seconds of each lead's conversion (NaN: none known), in lead order."""
    if CONVERTED_AT not in leads.columns:
        raise InputError(
            f"the leads table has no {CONVERTED_AT!r} column; a backtest needs the "
            "known conversions (converted_at, null when the lead did not convert)"
        )
    table = backend.to_pyarrow(leads.select(LEAD_KEY, CONVERTED_AT).order_by(LEAD_KEY))
    micros = table[CONVERTED_AT].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    values = micros.to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64) / 1e6


def _outcome(
    name: str,
    first_mql: np.ndarray,
    converted: np.ndarray,
    start: float,
) -> OutcomeRow:
    """Compare the first period end at which each lead was an MQL with conversions.

    ``start`` is the first period end: a lead that converted before it cannot have
    been an MQL at a period end before converting, so ``converted_from_start``
    counts the conversions a model could have been early for.
    """
    was_mql = ~np.isnan(first_mql)
    did_convert = ~np.isnan(converted)
    before = did_convert & was_mql & (first_mql <= converted)
    lead_days = (converted[before] - first_mql[before]) / SECONDS_PER_DAY
    with np.errstate(invalid="ignore"):
        from_start = did_convert & (converted >= start)
    return OutcomeRow(
        model=name,
        converted=int(did_convert.sum()),
        converted_from_start=int(from_start.sum()),
        converted_were_mql=int(before.sum()),
        median_days_earlier=float(np.median(lead_days)) if lead_days.size else None,
        mean_days_earlier=float(np.mean(lead_days)) if lead_days.size else None,
        mqls=int(was_mql.sum()),
        mqls_never_converted=int((was_mql & ~did_convert).sum()),
    )


def backtest(
    models: Mapping[str, Model],
    events: ir.Table | pa.Table,
    leads: ir.Table | pa.Table,
    ends: list[dt.datetime],
    backend: BaseBackend | None = None,
    *,
    dedupe: bool = True,
) -> Backtest:
    """MQL counts per period end under each model, and how they met conversions.

    A lead counts as an MQL before converting when it was an MQL at a period end
    at or before its ``converted_at``. Set ``dedupe=False`` only when event ids
    are known to be unique per lead (as in the store).
    """
    started = time.perf_counter()
    backend = backend or connect("duckdb")
    ev, ld = as_table(backend, events, "events"), as_table(backend, leads, "leads")
    converted = _conversions(ld, backend)
    periods: list[PeriodRow] = []
    outcomes: list[OutcomeRow] = []
    for name, model in models.items():
        first = np.full(converted.shape, np.nan)
        previous = np.zeros(converted.shape, dtype=bool)
        for end in ends:
            mql = _mql_flags(model, ev, ld, end, backend, dedupe)
            first = np.where(np.isnan(first) & mql, epoch_seconds(end), first)
            periods.append(
                PeriodRow(
                    end,
                    name,
                    int(mql.sum()),
                    int((mql & ~previous).sum()),
                    int((previous & ~mql).sum()),
                )
            )
            previous = mql
        outcomes.append(_outcome(name, first, converted, epoch_seconds(ends[0])))
    log.info(
        "backtest of %d models over %d periods on %s in %.2fs",
        len(models),
        len(ends),
        backend.name,
        time.perf_counter() - started,
    )
    return Backtest(periods, outcomes)
