"""Benchmark the batch engine against its floor, bound and baselines.

The floor, the model's own sums (the bound), a pandas baseline and the per-lead
engine, on seeded synthetic event streams (benchmarks/generate.py).

Each measurement runs in its own process so that its peak memory (max RSS) is its
own. Figures are wall-clock seconds, best of ``--repeat`` runs, on whatever else
the machine is doing at the time.

    python benchmarks/bench_batch.py --data bench-data --sizes 1m,10m \
        --postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/mql_bench

``--data`` holds one folder per size (``1m`` = 10k leads and 1M events, ``10m``,
``30m``); missing folders are generated first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
MODEL = HERE / "model.yaml"
AT = dt.datetime(2025, 12, 4, tzinfo=dt.UTC)
#: Events per lead on average, as in a firm's two years of marketing data.
EVENTS_PER_LEAD = 100
SIZES = {"1m": 1_000_000, "3m": 3_000_000, "10m": 10_000_000, "30m": 30_000_000}
#: Leads replayed by the per-lead engine; its time is scaled up by events.
PER_LEAD_SAMPLE = 1_000
#: The floor touches the same columns as the model, with the cheapest aggregate.
FLOOR_SQL = """
    select lead, sum(ts), count(type), count(url), count(form), count(asset),
           count(attended), count(channel), count(id)
    from read_parquet('{path}') group by lead
"""


def _peak_mb() -> float:
    """This process's peak resident memory in MB.

    VmHWM rather than ru_maxrss: Linux carries ru_maxrss over from the forking
    parent into the child, which would add the parent's memory to each figure.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = run()
        best = min(best, time.perf_counter() - started)
    return best, out


# -- the measurements (each in its own process) ----------------------------------


def measure_batch(folder: Path, repeat: int, dedupe: bool) -> dict[str, Any]:
    """The batch engine on DuckDB, reading the Parquet files."""
    from mql.batch import connect, rescore
    from mql.model import load_model

    model = load_model(MODEL)
    con = connect("duckdb")
    events = con.read_parquet(folder / "events.parquet")
    leads = con.read_parquet(folder / "leads.parquet")
    seconds, result = _best(
        lambda: rescore(model, events, leads, AT, con, dedupe=dedupe), repeat
    )
    return {"seconds": seconds, "mqls": int(np.sum(result["mql"].to_numpy()))}


def measure_floor(folder: Path, repeat: int) -> dict[str, Any]:
    """A bare DuckDB scan and group-by over the same event columns."""
    import duckdb

    con = duckdb.connect()
    sql = FLOOR_SQL.format(path=folder / "events.parquet")
    seconds, _ = _best(lambda: con.sql(sql).fetchall(), repeat)
    return {"seconds": seconds}


def bound_sql(model: Any, path: Path) -> str:
    """The per-lead aggregates the model's state is made of, with the rules matched
    by event type alone (no property tests, no join, no ranking): a bound on what
    any plan that sums this model's state in one DuckDB group-by can reach.

    One decayed sum per group with positive ``every`` rules, one plain sum per
    group with negative ones, the first time of each rule with another repeat
    mode, the last activity and the count.
    """
    from mql.batch.compiler import DecayParams

    def types(rules: list[Any]) -> str:
        names = sorted({t for rule in rules for t in rule.event})
        return "type in (" + ", ".join(f"'{t}'" for t in names) + ")"

    at = AT.timestamp()
    aggs = [
        f"max(ts) filter ({types(model.intent)})",
        f"count(*) filter ({types(model.intent)})",
    ]
    for group in model.groups:
        lam = DecayParams.of(model.decay_of(group.id)).lam
        every = [
            r for r in model.intent if r.group == group.id and r.repeat.mode == "every"
        ]
        for rules, decayed in (
            ([r for r in every if r.points > 0], True),
            ([r for r in every if r.points < 0], False),
        ):
            if rules:
                weight = f"exp({-lam!r} * ({at!r} - ts))" if decayed else "1"
                aggs.append(f"sum(case when {types(rules)} then {weight} end)")
    for rule in model.intent:
        if rule.repeat.mode != "every":
            aggs.append(f"min(ts) filter ({types([rule])})")
    return (
        f"select lead, {', '.join(aggs)} from read_parquet('{path}') "
        f"where ts <= {at!r} group by lead"
    )


def measure_bound(folder: Path, repeat: int) -> dict[str, Any]:
    """The model's own aggregates, matching left out (:func:`bound_sql`)."""
    import duckdb

    from mql.model import load_model

    con = duckdb.connect()
    sql = bound_sql(load_model(MODEL), folder / "events.parquet")
    seconds, _ = _best(lambda: con.sql(sql).fetchall(), repeat)
    return {"seconds": seconds}


def measure_postgres(folder: Path, repeat: int, url: str) -> dict[str, Any]:
    """The batch engine on PostgreSQL (tables loaded with COPY first, not timed)."""
    from mql.batch import connect, rescore
    from mql.model import load_model

    model = load_model(MODEL)
    _copy_to_postgres(folder, url)
    con = connect("postgres", url)
    events, leads = con.table("bench_events"), con.table("bench_leads")
    seconds, result = _best(
        lambda: rescore(model, events, leads, AT, con, dedupe=False), repeat
    )
    return {"seconds": seconds, "mqls": int(np.sum(result["mql"].to_numpy()))}


def _copy_to_postgres(folder: Path, url: str) -> None:
    import io

    import psycopg

    for name in ("events", "leads"):
        frame = pq.read_table(folder / f"{name}.parquet").to_pandas()
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            cols = ", ".join(
                f'"{c}" {_pg_type(str(t))}' for c, t in frame.dtypes.items()
            )
            conn.execute(f"drop table if exists bench_{name}")
            conn.execute(f"create unlogged table bench_{name} ({cols})")
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False)
            buffer.seek(0)
            with conn.cursor().copy(f"copy bench_{name} from stdin (format csv)") as cp:
                while chunk := buffer.read(1 << 20):
                    cp.write(chunk)
            conn.execute(f"analyze bench_{name}")


def _pg_type(dtype: str) -> str:
    if dtype.startswith("datetime64"):
        return "timestamptz"
    return {"float64": "double precision", "int64": "bigint"}.get(dtype, "text")


def measure_per_lead(folder: Path) -> dict[str, Any]:
    """The per-lead engine replaying a sample of leads, scaled up by events."""
    import duckdb

    from mql.model import load_model
    from mql.scoring import Event, score

    model = load_model(MODEL)
    path = folder / "events.parquet"
    total = pq.ParquetFile(path).metadata.num_rows
    sample = duckdb.sql(
        f"select * from read_parquet('{path}') where lead in (select lead from "
        f"read_parquet('{folder / 'leads.parquet'}') using sample "
        f"{PER_LEAD_SAMPLE} rows (reservoir, 42))"
    ).to_df()
    leads = pq.read_table(folder / "leads.parquet").to_pandas().set_index("lead")
    props = ["url", "form", "asset", "attended", "channel"]
    histories: dict[str, list[Event]] = {}
    for row in sample.itertuples(index=False):
        values = {p: getattr(row, p) for p in props if isinstance(getattr(row, p), str)}
        event = Event(row.id, row.type, row.at.to_pydatetime(), values)
        histories.setdefault(row.lead, []).append(event)
    attrs = {
        lead: {k: v for k, v in leads.loc[lead].items() if isinstance(v, str)}
        for lead in histories
    }
    started = time.perf_counter()
    for lead, events in histories.items():
        score(model, attrs[lead], events, AT)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds * total / len(sample),
        "sample_events": len(sample),
        "sample_seconds": seconds,
    }


def measure_pandas(folder: Path) -> dict[str, Any]:
    """What an analyst would write with pandas for the same model (no grace)."""
    from mql.model import load_model

    model = load_model(MODEL)
    started = time.perf_counter()
    ev = pd.read_parquet(folder / "events.parquet")
    leads = pd.read_parquet(folder / "leads.parquet")
    ev = ev[ev["ts"] <= AT.timestamp()]
    ev = ev.sort_values(["lead", "ts", "id"], kind="stable").reset_index(drop=True)
    matches = {
        rule.id: _pandas_match(ev, rule.event, rule.where) for rule in model.intent
    }
    is_activity = np.logical_or.reduce(list(matches.values()))
    active = ev[is_activity].reset_index(drop=True)
    matches = {rule: hit[is_activity] for rule, hit in matches.items()}
    out = pd.DataFrame(index=leads["lead"])
    for group in model.groups:
        decay = model.decay_of(group.id)
        lam = -np.log1p(-decay.rate) / (decay.period_days * 86_400)
        weight = np.exp(-lam * (AT.timestamp() - active["ts"].to_numpy()))
        pos = np.zeros(len(active))
        neg = np.zeros(len(active))
        for rule in model.intent:
            if rule.group != group.id:
                continue
            fired = _pandas_fired(active, matches[rule.id], rule)
            pts = np.where(fired, rule.points, 0.0)
            if rule.points > 0:
                pos += pts * weight
            else:
                neg += pts
        sums = (
            pd.DataFrame({"lead": active["lead"], "p": pos, "n": neg})
            .groupby("lead")
            .sum()
        )
        value = (sums["p"] + sums["n"]).reindex(out.index, fill_value=0.0)
        out[group.id] = value.clip(lower=group.floor, upper=group.cap)
    fit = np.zeros(len(leads))
    for rule in model.fit:
        fit += np.where(_pandas_match(leads, None, rule.when), rule.points, 0.0)
    out["score"] = fit + out[[g.id for g in model.groups]].sum(axis=1).to_numpy()
    if model.total_cap is not None:
        out["score"] = out["score"].clip(upper=model.total_cap)
    disq = np.logical_or.reduce(
        [_pandas_match(leads, None, d.when) for d in model.disqualifiers]
    )
    grade_ok = fit >= getattr(model.grades, model.min_grade or "C")
    out["mql"] = (out["score"].to_numpy() >= model.threshold) & ~disq & grade_ok
    return {"seconds": time.perf_counter() - started, "mqls": int(out["mql"].sum())}


def glob_to_regex(glob: str) -> str:
    """The glob as an anchored regular expression (mql's own translation)."""
    from mql.batch.conditions import glob_to_regex as translate

    return translate(glob)


def _pandas_text(frame: pd.DataFrame, field: str, case_sensitive: bool) -> pd.Series:
    if field not in frame:
        return pd.Series("", index=frame.index)
    text = frame[field].fillna("").astype(str).str.strip()
    return text if case_sensitive else text.str.lower()


def _pandas_match(frame: pd.DataFrame, types: Any, where: Any) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    if types is not None:
        mask &= frame["type"].isin(types).to_numpy()
    for field, cond in where.items():
        text = _pandas_text(frame, field, cond.case_sensitive)
        has = (text != "").to_numpy()
        kind = cond.kind
        number = pd.to_numeric(text, errors="coerce")
        if kind == "present":
            test = has if cond.present else ~has
        elif kind == "equals" or kind == "in":
            options = [cond.equals] if kind == "equals" else list(cond.in_ or ())
            test = np.zeros(len(frame), dtype=bool)
            for opt in options:
                if isinstance(opt, bool):
                    test |= (text == str(opt).lower()).to_numpy()
                elif isinstance(opt, int | float):
                    test |= (number == opt).to_numpy()
                else:
                    want = opt if cond.case_sensitive else str(opt).lower()
                    test |= (text == want).to_numpy()
        elif kind == "range":
            lo = -np.inf if cond.min is None else cond.min
            hi = np.inf if cond.max is None else cond.max
            test = number.between(lo, hi).fillna(False).to_numpy()
        elif kind == "contains":
            needle = (
                cond.contains if cond.case_sensitive else str(cond.contains).lower()
            )
            test = text.str.contains(needle, regex=False).to_numpy()
        elif kind == "regex":
            flags = 0 if cond.case_sensitive else re.IGNORECASE
            test = text.str.contains(cond.regex, flags=flags, regex=True).to_numpy()
        else:
            glob = cond.glob if cond.case_sensitive else str(cond.glob).lower()
            # fnmatch.translate() emits (?s:..)\\Z, which pandas' Arrow strings
            # (RE2) refuse; the same anchored pattern in RE2's syntax:
            test = text.str.contains(glob_to_regex(glob), regex=True).to_numpy()
        mask = mask & (has & test if kind != "present" else test)
    return mask


def _pandas_fired(active: pd.DataFrame, match: np.ndarray, rule: Any) -> np.ndarray:
    mode = rule.repeat.mode
    if mode == "every":
        return match
    keys = ["lead"]
    frame = active.assign(_m=match)
    if mode == "once_per":
        frame["_k"] = _pandas_text(frame, rule.repeat.key, False)
        frame["_m"] &= frame["_k"] != ""
        keys.append("_k")
    seen = frame.groupby(keys)["_m"].cumsum()
    nth = rule.repeat.count if mode == "min_count" else 1
    return (frame["_m"] & (seen == nth)).to_numpy()


# -- orchestration -----------------------------------------------------------------


def _child(kind: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", kind, "--data", str(folder),
           "--repeat", str(args.repeat)]  # fmt: skip
    if args.postgres_url:
        cmd += ["--postgres-url", args.postgres_url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_child(kind: str, folder: Path, args: argparse.Namespace) -> None:
    if kind == "batch":
        out = measure_batch(folder, args.repeat, dedupe=False)
    elif kind == "batch_dedupe":
        out = measure_batch(folder, args.repeat, dedupe=True)
    elif kind == "floor":
        out = measure_floor(folder, args.repeat)
    elif kind == "bound":
        out = measure_bound(folder, args.repeat)
    elif kind == "pandas":
        out = measure_pandas(folder)
    elif kind == "per_lead":
        out = measure_per_lead(folder)
    else:
        out = measure_postgres(folder, args.repeat, args.postgres_url)
    out["peak_mb"] = _peak_mb()
    print(json.dumps(out))


def _ensure(folder: Path, size: str) -> None:
    if (folder / "events.parquet").exists():
        return
    sys.path.insert(0, str(HERE))
    from generate import generate

    events = SIZES[size]
    generate(folder, events // EVENTS_PER_LEAD, events)


def main(quick: bool = False, argv: list[str] | None = None) -> None:
    """Run the benchmark and print one JSON line per size.

    Run by ``python -m benchmarks`` it uses benchmarks/out/batch and, with
    ``quick``, the 1M size only.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=HERE / "out" / "batch")
    parser.add_argument("--sizes", default="1m" if quick else "1m,10m")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip", default="", help="measurements to leave out")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("MQL_BENCH_POSTGRES_URL")
    )
    parser.add_argument("--postgres-size", default="1m")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    # parse_known_args: run by `python -m benchmarks`, argv holds its own options.
    args, _ = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    if args.child:
        _run_child(args.child, args.data, args)
        return
    skip = set(filter(None, args.skip.split(",")))
    for size in args.sizes.split(","):
        folder = args.data / size
        _ensure(folder, size)
        events = SIZES[size]
        row: dict[str, Any] = {"size": size, "events": events}
        kinds = ["floor", "bound", "batch", "batch_dedupe", "pandas", "per_lead"]
        if args.postgres_url and size == args.postgres_size:
            kinds.append("postgres")
        for kind in kinds:
            if kind not in skip:
                row[kind] = _child(kind, folder, args)
        _summarise(row)
        print(json.dumps(row), flush=True)


def _summarise(row: dict[str, Any]) -> None:
    batch = row.get("batch", {}).get("seconds")
    if not batch:
        return
    row["events_per_second"] = row["events"] / batch
    for other in ("floor", "bound", "pandas", "per_lead", "postgres", "batch_dedupe"):
        seconds = row.get(other, {}).get("seconds")
        if seconds:
            row[f"{other}_over_batch"] = seconds / batch


if __name__ == "__main__":
    main()
