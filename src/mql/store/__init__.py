"""The store: tables on one shared ``metadata``, migrations, and opening it."""

from mql.store.store import (
    Store,
    alembic_config,
    head_revision,
    load_table_modules,
    open_store,
    upgrade,
)
from mql.store.tables import (
    accounts,
    events,
    import_runs,
    lead_scores,
    leads,
    metadata,
    quarantine,
)

__all__ = [
    "Store",
    "accounts",
    "alembic_config",
    "events",
    "head_revision",
    "import_runs",
    "lead_scores",
    "leads",
    "load_table_modules",
    "metadata",
    "open_store",
    "quarantine",
    "upgrade",
]
