"""The batch engine: the scoring model compiled to one Ibis expression, run on
DuckDB (default), PostgreSQL or Spark to rescore every lead at any instant and to
replay history (backtests). docs/batch.md describes the data layout and figures.
"""

from mql.batch.compiler import compile_state
from mql.batch.engines import ENGINES, connect, spark_session
from mql.batch.layout import (
    event_properties,
    events_table,
    lead_attributes,
    leads_table,
)
from mql.batch.rescore import rescore
from mql.batch.until import mql_until

__all__ = [
    "ENGINES",
    "compile_state",
    "connect",
    "event_properties",
    "events_table",
    "lead_attributes",
    "leads_table",
    "mql_until",
    "rescore",
    "spark_session",
]
