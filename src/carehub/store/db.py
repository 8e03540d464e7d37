"""The metadata database: SQLite (WAL mode) by default, PostgreSQL through the URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from carehub.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 30_000  # wait for another writer rather than fail at once


def now_utc() -> datetime:
    """Naive UTC: both SQLite and PostgreSQL store it unchanged."""
    return datetime.now(UTC).replace(tzinfo=None)


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _make_engine(url: str) -> Engine:
    try:
        engine = create_engine(url, future=True, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigurationError(
            f"the metadata database URL {_redacted(url)} is not valid ({type(exc).__name__})",
            hint="set CAREHUB_DATABASE_URL to e.g. sqlite:////path/carehub.db or "
            "postgresql+psycopg://user@host:5432/carehub",
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """A connection pool and the migrations of one metadata database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def check_connection(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as exc:
            raise ConfigurationError(
                f"cannot connect to the metadata database {_redacted(self.url)}",
                hint="check that the server is running and CAREHUB_DATABASE_URL is right",
            ) from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def lock_for_append(self, session: Session, table: str) -> None:
        """Serialise appenders of a hash chain (PostgreSQL); SQLite serialises writers itself."""
        if self.dialect == "postgresql":
            session.execute(text(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE"))

    def _alembic_config(self) -> Config:
        config = Config()
        location = resources.files("carehub.store") / "migrations"
        config.set_main_option("script_location", str(location))
        return config

    def upgrade(self) -> None:
        """Apply every migration not yet applied."""
        self.check_connection()
        with self.engine.begin() as connection:
            config = self._alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def is_current(self) -> bool:
        """True when the database has every migration applied."""
        script = ScriptDirectory.from_config(self._alembic_config())
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        return current == script.get_current_head()

    def dispose(self) -> None:
        self.engine.dispose()
