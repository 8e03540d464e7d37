"""Helpers for tests that need a real workspace (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import MetaData, create_engine, select

from carehub.governance.actors import SYSTEM_ACTOR, Actor, Role
from carehub.platform import Platform
from carehub.settings import Settings

ADMIN = Actor("test-admin", "HUB", Role.ADMIN, "Test Admin")
TRUST = ("RAJ", "Mid and South Essex NHS Foundation Trust")
DEMO_PASSWORD = "correct-horse-battery"  # the password of the users of the demo_platform fixture


def make_platform(home: Path, database_url: str | None = None) -> Platform:
    platform = Platform(Settings(home=home, database_url=database_url))
    platform.init()
    platform.add_organisation(SYSTEM_ACTOR, TRUST[0], TRUST[1], "trust")
    return platform


RECORDS_OF_RECEIPT = ("submissions", "jobs", "audit_events")  # a refused file is still recorded


def snapshot(
    home: Path, *, published_only: bool = False
) -> tuple[dict[str, str], dict[str, list[tuple[object, ...]]]]:
    """Every lake and mapping file by hash, and every row of every metadata table.

    ``published_only`` leaves out the raw zone and the records of receipt: what a refused file
    must not change is what was published, while its bytes and its submission are kept."""
    files = {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file()
        and "scratch" not in p.relative_to(home).parts
        and not p.name.startswith("carehub.db")
        and not (published_only and p.relative_to(home).parts[:2] == ("lake", "raw"))
    }
    engine = create_engine(f"sqlite:///{home / 'carehub.db'}")
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = {
            name: sorted(map(tuple, connection.execute(select(table))))
            for name, table in metadata.tables.items()
            if not (published_only and name in RECORDS_OF_RECEIPT)
        }
    engine.dispose()
    return files, rows
