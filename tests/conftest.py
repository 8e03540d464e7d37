"""Fixtures shared by every kind of test: real workspaces, real databases, the synthetic ICS."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from workspaces import ADMIN, DEMO_PASSWORD, make_platform

from carehub.errors import DataContractError
from carehub.governance.actors import Role
from carehub.model.datasets import dataset_names
from carehub.model.periods import Period
from carehub.platform import Platform
from carehub.synth.ics import Manifest, generate

REPO = Path(__file__).resolve().parents[1]


def _required(variable: str) -> bool:
    return os.environ.get(variable, "") not in ("", "0")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real reference data beside the repository (../shared/data); required, never skipped."""
    path = Path(os.environ.get("CAREHUB_SHARED_DATA", REPO.parent / "shared" / "data"))
    if not path.is_dir():
        pytest.fail(f"reference data not found at {path}: set CAREHUB_SHARED_DATA")
    return path


@pytest.fixture
def platform(tmp_path: Path) -> Platform:
    """A fresh, initialised workspace on SQLite with the acute trust registered."""
    return make_platform(tmp_path / "home")


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    url = os.environ.get("CAREHUB_TEST_POSTGRES_URL")
    if not url:
        if _required("CAREHUB_REQUIRE_POSTGRES"):
            pytest.fail("CAREHUB_REQUIRE_POSTGRES is set but CAREHUB_TEST_POSTGRES_URL is not")
        pytest.skip("PostgreSQL suite: set CAREHUB_TEST_POSTGRES_URL to run it (CI does)")
    return url


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"carehub_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        if _required("CAREHUB_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not usable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at CAREHUB_TEST_POSTGRES_URL: {type(exc).__name__}")
    yield make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'metadata.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


SYNTH_LAST = Period(2025, 6)
SYNTH_MONTHS = 24


@pytest.fixture(scope="session")
def synth_ics(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> tuple[Path, Manifest]:
    """The synthetic ICS at the demo scale (24 months, 60,000 residents), made once a session."""
    folder = tmp_path_factory.mktemp("synth")
    manifest = generate(
        folder,
        seed=7,
        last=SYNTH_LAST,
        months=SYNTH_MONTHS,
        shared_data=shared_data,
        residents=60_000,
    )
    return folder, manifest


@pytest.fixture(scope="session")
def demo_platform(
    tmp_path_factory: pytest.TempPathFactory, synth_ics: tuple[Path, Manifest]
) -> Platform:
    """A workspace with the synthetic ICS submitted and the KPIs computed, shared by read-only
    functional and browser tests, under the synthetic ICS's agreements. Users: analyst, viewer
    and steward (HUB), raj.analyst, icb.analyst and raj.submitter (password below)."""
    folder, manifest = synth_ics
    hub = make_platform(tmp_path_factory.mktemp("demo") / "home")
    for org in manifest.organisations:
        hub.add_organisation(ADMIN, org["ods_code"], org["name"], org["kind"])
    for mapping in manifest.mappings:
        hub.install_mapping(ADMIN, folder / mapping)
    for agreement in manifest.agreements:
        hub.adopt_agreement(ADMIN, folder / agreement, "Test Signatory")
    for username, org, role in (
        ("analyst", "HUB", Role.ANALYST),
        ("viewer", "HUB", Role.VIEWER),
        ("steward", "HUB", Role.STEWARD),
        ("raj.analyst", "RAJ", Role.ANALYST),
        ("icb.analyst", "QH8", Role.ANALYST),
        ("raj.submitter", "RAJ", Role.SUBMITTER),
    ):
        hub.add_user(ADMIN, username, DEMO_PASSWORD, org, role, username.title())
    broken = {d.file for d in manifest.defects if d.stage == "file"}
    for feed in manifest.feeds:
        if feed.dataset not in dataset_names():
            continue
        path, sent = folder / feed.path, datetime.combine(date.fromisoformat(feed.sent_on), time(9))
        if Path(feed.path).name in broken:  # planted whole-file defects must be refused
            with pytest.raises(DataContractError):
                hub.submit(ADMIN, feed.org_code, feed.dataset, path, feed.period, received_at=sent)
        else:
            hub.submit(ADMIN, feed.org_code, feed.dataset, path, feed.period, received_at=sent)
    hub.run_metrics()
    return hub
