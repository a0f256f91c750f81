"""Opening the store: migrations, the shared metadata, instants, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from mql.errors import StoreError
from mql.settings import DEFAULT_DATABASE_URL, Settings, mask_url
from mql.store import (
    Store,
    alembic_config,
    head_revision,
    load_table_modules,
    metadata,
    open_store,
    reads,
)
from mql.store.tables import events, import_runs, leads


def test_open_migrates_to_the_newest_revision(store: Store) -> None:
    assert store.revision() == head_revision()


def test_migrations_create_exactly_the_declared_tables(store: Store) -> None:
    assert "tables" in load_table_modules()
    with store.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_opening_twice_is_harmless(store: Store) -> None:
    again = open_store(store.url)
    assert again.revision() == head_revision()
    again.close()


def test_revisions_form_one_chain() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1
    assert scripts.get_revision("0001_core").down_revision is None


def test_instants_come_back_aware_in_utc(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    written = datetime(2025, 3, 31, 9, 30, tzinfo=paris)
    with store.begin() as conn:
        run_id = conn.execute(
            import_runs.insert().values(
                kind="leads",
                file="x.csv",
                started_at=written,
                status="done",
                read=0,
                imported=0,
                updated=0,
                duplicates=0,
                quarantined=0,
                notes=[],
            )
        ).inserted_primary_key[0]
        back = conn.execute(
            sa.select(import_runs.c.started_at).where(import_runs.c.id == run_id)
        ).scalar_one()
    assert back == written
    assert back.tzinfo is not None
    assert back.utcoffset() == timedelta(0)


def test_naive_instants_are_refused(store: Store) -> None:
    with (
        pytest.raises(sa.exc.StatementError, match="naive datetime"),
        store.begin() as conn,
    ):
        conn.execute(
            leads.insert().values(
                email="a@b.com",
                attributes={},
                do_not_email=False,
                opted_out=False,
                created_at=datetime(2025, 1, 1),
                updated_at=datetime(2025, 1, 1),
            )
        )


def test_an_event_key_is_stored_once(store: Store) -> None:
    now = datetime.now(UTC)
    with store.begin() as conn:
        lead_id = conn.execute(
            leads.insert().values(
                email="a@b.com",
                attributes={},
                do_not_email=False,
                opted_out=False,
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key[0]
        row = {
            "event_key": "id:1",
            "lead_id": lead_id,
            "type": "t",
            "at": now,
            "properties": {},
        }
        conn.execute(events.insert(), [row])
    with pytest.raises(sa.exc.IntegrityError), store.begin() as conn:
        conn.execute(events.insert(), [row])


def test_an_unreadable_url_says_what_to_use() -> None:
    with pytest.raises(
        StoreError,
        match=r"cannot read the database URL \(not shown.*use the form sqlite",
    ):
        open_store("nonsense")


def test_an_unknown_driver_names_the_supported_ones() -> None:
    with pytest.raises(StoreError, match="supported are sqlite:/// and postgresql"):
        open_store("nosuchdb://x/y")


def test_the_repr_masks_the_password() -> None:
    store = open_store("postgresql+psycopg://app:s3cret@127.0.0.1:1/x", migrate=False)
    assert "s3cret" not in repr(store)
    assert "***" in repr(store)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://app@db/mql?password=s3cret",
         "postgresql+psycopg://app@db/mql?password=***"),
        ("postgresql+psycopg://app@db/mql?sslmode=require&PASSWORD=s3cret",
         "postgresql+psycopg://app@db/mql?sslmode=require&PASSWORD=***"),
        ("postgresql+psycopg://app:s3cret@db/mql?password=s3cret",
         "postgresql+psycopg://app:***@db/mql?password=***"),
        ("sqlite:///mql.db", "sqlite:///mql.db"),
    ],
)  # fmt: skip
def test_a_password_in_the_query_is_masked_too(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_a_failing_store_does_not_print_a_query_password(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mql.cli.app import app

    url = "postgresql+psycopg://nosuchuser@127.0.0.1:1/x?password=s3cret"
    model = tmp_path / "mql.yaml"
    model.write_text(
        "name: m\nthreshold: 10\ngroups: [{id: g}]\nintent: [{id: r, event: e, "
        "points: 5, group: g, repeat: every}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["--db", url, "--model", str(model), "mqls"])
    assert result.exit_code == 2
    assert "password=***" in result.output
    assert "s3cret" not in result.output


def test_settings_read_the_environment() -> None:
    url = "postgresql+psycopg://app:s3cret@db.internal/mql"
    settings = Settings.from_env({"MQL_DATABASE_URL": url})
    assert settings.database_url == url
    assert "s3cret" not in repr(settings)


def test_settings_default_to_sqlite_in_the_working_folder() -> None:
    assert (
        Settings.from_env({}).database_url == DEFAULT_DATABASE_URL == "sqlite:///mql.db"
    )


def test_open_store_uses_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    monkeypatch.setenv("MQL_DATABASE_URL", url)
    store = open_store()
    assert store.url == url
    assert (tmp_path / "from-env.db").exists()
    store.close()


def test_who_is_an_mql_at_t_is_an_index_range_query(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    query = reads.mql_candidates_query("sha256:x", datetime(2025, 3, 31, tzinfo=UTC))
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    store.close()
    index = "USING INDEX ix_lead_scores_mql_mql_until"
    assert f"SEARCH lead_scores {index} (mql=? AND mql_until=?)" in plan
    assert f"SEARCH lead_scores {index} (mql=? AND mql_until>?)" in plan
