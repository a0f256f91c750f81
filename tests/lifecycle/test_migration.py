"""The lifecycle migration: matches the table definitions, and goes down and up."""

from __future__ import annotations

import sqlalchemy as sa

from mql.store import Store, upgrade
from mql.store import lifecycle_tables as lt

TABLES = (
    lt.lifecycle_states,
    lt.lifecycle_transitions,
    lt.handoffs,
    lt.handoff_log,
    lt.outbox_messages,
    lt.outbox_deliveries,
)


def test_migrated_tables_have_the_declared_columns_and_indexes(store: Store) -> None:
    inspector = sa.inspect(store.engine)
    for table in TABLES:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
        indexes = {i["name"] for i in inspector.get_indexes(table.name)}
        declared = {i.name for i in table.indexes}
        assert declared <= indexes, table.name
    open_index = next(
        i
        for i in inspector.get_indexes("handoffs")
        if i["name"] == "uq_handoffs_open_lead"
    )
    assert open_index["unique"]


def test_downgrade_and_upgrade_again(store: Store) -> None:
    upgrade(store, "head")
    from alembic import command

    from mql.store import alembic_config

    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001_core")
    assert "handoffs" not in sa.inspect(store.engine).get_table_names()
    upgrade(store, "head")
    assert "handoffs" in sa.inspect(store.engine).get_table_names()
