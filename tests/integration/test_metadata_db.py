"""The metadata database on SQLite and PostgreSQL: migrations, models and configuration errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from carehub.errors import ConfigurationError
from carehub.store.db import Database
from carehub.store.tables import Base


def test_migrations_create_exactly_the_models(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade()
    assert database.is_current()
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    database.dispose()
    assert differences == [], "write a new Alembic migration for these model changes"


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    database = Database(database_url)
    database.upgrade()
    database.upgrade()
    assert database.is_current()
    database.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'm.db'}")
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


@pytest.mark.parametrize(
    "url",
    ["not a url", "nosuchdriver://user@host/db", "postgresql+psycopg://nobody@127.0.0.1:1/none"],
)
def test_a_wrong_url_is_a_configuration_error_without_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Database(url.replace("nobody@", "nobody:secret-pw@")).check_connection()
    assert "secret-pw" not in str(caught.value)
    assert "CAREHUB_DATABASE_URL" in caught.value.hint or "server" in caught.value.hint
