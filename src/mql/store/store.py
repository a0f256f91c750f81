"""Opening the store: engine, migrations to the newest revision, connections."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from mql.errors import StoreError
from mql.settings import Settings, mask_url

logger = logging.getLogger(__name__)

#: SQLite waits this long for another writer before giving up (seconds).
SQLITE_BUSY_TIMEOUT_S = 30


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration whose scripts are the ones inside the package."""
    config = Config()
    location = resources.files("mql.store") / "migrations"
    config.set_main_option("script_location", str(location))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def load_table_modules() -> list[str]:
    """Import every ``*tables`` module of :mod:`mql.store`, so the shared
    ``metadata`` holds all tables (for autogenerate and schema checks)."""
    import mql.store

    names = sorted(
        info.name
        for info in pkgutil.iter_modules(mql.store.__path__)
        if info.name.endswith("tables")
    )
    for name in names:
        importlib.import_module(f"mql.store.{name}")
    return names


def head_revision() -> str:
    """The newest migration revision shipped with this version of mql."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise StoreError("no migrations found inside the mql package")
    return head


@dataclass
class Store:
    """An open store: the engine and the URL it was opened with (password masked)."""

    engine: Engine
    url: str

    def __repr__(self) -> str:
        return f"Store(url={mask_url(self.url)!r})"

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, committed on success."""
        with self.engine.begin() as conn:
            yield conn

    def revision(self) -> str | None:
        """The migration revision the database is at."""
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open (and by default migrate to the newest revision) the database at ``url``.

    ``url`` defaults to the settings (``MQL_DATABASE_URL``, else ``sqlite:///mql.db``).

    >>> store = open_store("sqlite://")
    >>> store.revision() == head_revision()
    True
    """
    url = url or Settings.from_env().database_url
    engine = _engine(url)
    store = Store(engine=engine, url=url)
    if migrate:
        upgrade(store)
    return store


def upgrade(store: Store, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (``upgrade head`` by default)."""
    try:
        with store.engine.begin() as conn:
            command.upgrade(alembic_config(conn), revision)
    except sa.exc.SQLAlchemyError as exc:
        raise StoreError(
            f"cannot migrate the database at {mask_url(store.url)} to {revision}: "
            f"{exc.__class__.__name__}: {exc}; check that the server answers and "
            "that the user may create tables"
        ) from exc
    logger.debug("store %s at revision %s", mask_url(store.url), revision)


def _engine(url: str) -> Engine:
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(
            "cannot read the database URL (not shown: it may hold a password); "
            "use the form sqlite:///mql.db or "
            "postgresql+psycopg://user:password@host/db"
        ) from exc
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        if parsed.database in (None, "", ":memory:"):
            # One shared connection, or each connection would see its own database.
            kwargs["poolclass"] = sa.pool.StaticPool
            kwargs["connect_args"]["check_same_thread"] = False
    try:
        engine = sa.create_engine(url, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise StoreError(
            f"cannot open the database {mask_url(url)}: {exc}; supported are "
            "sqlite:/// and postgresql+psycopg://"
        ) from exc
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
