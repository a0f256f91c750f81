"""Alembic environment: migrations run on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from mql.store.store import load_table_modules
from mql.store.tables import metadata

load_table_modules()

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
