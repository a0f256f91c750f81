"""Connecting to the engines the batch engine runs on, and putting tables there."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from mql.errors import EngineError

log = logging.getLogger(__name__)

ENGINES = ("duckdb", "postgres", "spark")
#: Spark reads times in the session zone: the engine's times are UTC.
SPARK_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "4",
}


def connect(engine: str = "duckdb", url: str | None = None) -> BaseBackend:
    """An Ibis backend: DuckDB in memory (or a file), PostgreSQL by URL, local Spark.

    >>> connect("duckdb").name
    'duckdb'
    """
    if engine == "duckdb":
        con = ibis.duckdb.connect(url or ":memory:")
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    if engine == "postgres":
        if not url:
            raise EngineError(
                "the postgres engine needs a database URL, e.g. "
                "postgresql://user@host:5432/db (--url or MQL_BATCH_URL)"
            )
        return ibis.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(url or "local[1]"))
    raise EngineError(
        f"unknown batch engine {engine!r}; choose one of {', '.join(ENGINES)}"
    )


def spark_session(master: str = "local[1]") -> Any:
    """A Spark session for the batch engine (UTC, bound to 127.0.0.1 when local)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise EngineError(
            "the spark engine needs PySpark: pip install 'mql[spark]'"
        ) from exc
    builder = SparkSession.builder.master(master).appName("mql-batch")
    for key, value in SPARK_CONF.items():
        if master.startswith("local") or key == "spark.sql.session.timeZone":
            builder = builder.config(key, value)
    return builder.getOrCreate()


def as_table(backend: BaseBackend, data: ir.Table | pa.Table, role: str) -> ir.Table:
    """``data`` as a table of ``backend``: Ibis tables as they are, Arrow uploaded."""
    if isinstance(data, ir.Table):
        return data
    name = f"mql_{role}_{uuid.uuid4().hex[:10]}"
    log.debug(
        "uploading %d %s rows to %s as %s", data.num_rows, role, backend.name, name
    )
    if backend.name == "pyspark":
        # A temporary view: Spark tables would be written under spark-warehouse/.
        return backend.create_view(name, ibis.memtable(data))
    return backend.create_table(name, data, temp=True)
