"""Helpers for tests that need a real workspace (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

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
