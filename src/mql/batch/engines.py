"""Connecting to the engines the batch engine runs on, and putting tables there."""

from __future__ import annotations

import logging
import re
import socket
import uuid
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from ibis.backends import BaseBackend

from mql.errors import EngineError
from mql.settings import PASSWORD_PARAMETER, hide_password_parameters

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


#: The environment variable the command line reads when ``--engine-url`` is left out.
URL_ENV = "MQL_BATCH_URL"
#: The environment variable the command line reads when ``--engine`` is left out.
ENGINE_ENV = "MQL_BATCH_ENGINE"
POSTGRES_SCHEMES = (
    "postgres",
    "postgresql",
    "postgresql+psycopg",
    "postgresql+psycopg2",
)
#: What to do when an engine cannot be reached, per engine.
FIXES = {
    "duckdb": "give a file in a folder that exists and can be written, or no URL to "
    "run in memory",
    "postgres": "check that the server runs and accepts connections there and that "
    "the user, password and database in the URL are right "
    "(postgresql://user@host:5432/db)",
    "spark": "check the master URL (local[1], or spark://host:7077 for a cluster) and "
    "that the cluster answers; PySpark needs Java 17 on PATH",
}
_PASSWORD = re.compile(r"(?P<head>://[^:/@?#]*:)(?P<password>[^@/?#]*)@")
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")


def shown_url(url: str) -> str:
    """``url`` with its password, if any, replaced by ``***``.

    >>> shown_url("postgresql://mql:secret@127.0.0.1:5432/db")
    'postgresql://mql:***@127.0.0.1:5432/db'
    >>> shown_url("postgresql://mql@127.0.0.1/db?sslmode=require&password=secret")
    'postgresql://mql@127.0.0.1/db?sslmode=require&password=***'
    """
    return hide_password_parameters(_PASSWORD.sub(r"\g<head>***@", url))


def connect(engine: str = "duckdb", url: str | None = None) -> BaseBackend:
    """An Ibis backend: DuckDB in memory (or a file), PostgreSQL by URL, local Spark.

    Any failure to reach the engine is an :class:`EngineError` that names the
    engine, the URL (without its password) and what to check.

    >>> connect("duckdb").name
    'duckdb'
    """
    if engine not in ENGINES:
        raise EngineError(
            f"unknown batch engine {engine!r}; choose one of {', '.join(ENGINES)}"
        )
    _check_url(engine, url)
    try:
        return _open(engine, url)
    except EngineError:
        raise
    except Exception as exc:
        where = f" at {shown_url(url)}" if url else ""
        raise EngineError(
            f"cannot connect to the {engine} engine{where}: {_reason(exc, url)}; "
            f"{FIXES[engine]}"
        ) from exc


def _check_url(engine: str, url: str | None) -> None:
    """Refuse, before trying, a URL that cannot be meant for ``engine``."""
    scheme = _SCHEME.match(url or "")
    if engine == "postgres":
        if not url:
            raise EngineError(
                "the postgres engine needs a database URL, e.g. "
                f"postgresql://user@host:5432/db (--engine-url or {URL_ENV})"
            )
        if scheme is None or scheme["scheme"].lower() not in POSTGRES_SCHEMES:
            raise EngineError(
                f"{shown_url(url)!r} is not a PostgreSQL URL for the postgres engine; "
                "write it as postgresql://user@host:5432/db"
            )
    elif engine == "duckdb" and url and scheme is not None:
        raise EngineError(
            f"the duckdb engine takes a file path, not the URL {shown_url(url)!r}; "
            "for a PostgreSQL URL use --engine postgres, for a Spark master "
            "--engine spark"
        )


def _open(engine: str, url: str | None) -> BaseBackend:
    if engine == "duckdb":
        con = ibis.duckdb.connect(url or ":memory:")
        con.raw_sql("SET TimeZone = 'UTC'")
        return con
    if engine == "postgres":
        assert url is not None
        _, rest = url.split("://", 1)
        return ibis.connect(f"postgresql://{rest}")
    master = url or "local[1]"
    _check_masters_answer(master)
    session = spark_session(master)
    return ibis.pyspark.connect(session)


#: Seconds to wait for a Spark master's port to accept a connection.
MASTER_TIMEOUT = 5.0
_MASTER = re.compile(r"^\[?(?P<host>[^\]]+?)\]?:(?P<port>\d+)$")


def _check_masters_answer(master: str) -> None:
    """Refuse at once a standalone master (``spark://h:p[,h2:p2]``) whose port
    takes no connection: Spark itself retries for over a minute first."""
    if not master.startswith("spark://"):
        return
    tried = []
    for address in master.removeprefix("spark://").split(","):
        found = _MASTER.match(address.strip())
        if found is None:
            raise EngineError(
                f"{master!r} is not a Spark master URL; write it as "
                "spark://host:7077 (or local[1] to run here)"
            )
        host, port = found["host"], int(found["port"])
        try:
            with socket.create_connection((host, port), timeout=MASTER_TIMEOUT):
                return
        except OSError as exc:
            tried.append(f"{host}:{port} ({exc.strerror or type(exc).__name__})")
    raise ConnectionError(f"no Spark master answers at {', '.join(tried)}")


def _reason(exc: Exception, url: str | None) -> str:
    """The first line of what the driver said, without the URL's password."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    if len(lines) > 1 and lines[1].startswith(":"):
        # Py4J: "An error occurred while calling ...", then ": java....: why".
        text = f"{text} {lines[1]}"
    for pattern in (_PASSWORD, PASSWORD_PARAMETER):
        for found in pattern.finditer(url or ""):
            if found["password"]:
                text = text.replace(found["password"], "***")
    return text[:300].rstrip(" .;:")


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
