"""Helpers for tests that need a real workspace (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import MetaData, create_engine, select

from carehub.governance.actors import SYSTEM_ACTOR, Actor, Role
from carehub.model.agreements import AgreementSpec
from carehub.model.nhs_number import check_digit
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


ED_HEADER = "attendance_id,nhs_number,site_code,department_type,arrival_at,departed_at,acuity\n"


def nhs_numbers(start: int = 999_300_000) -> Iterator[str]:
    """Synthetic NHS numbers in the 999 test range that pass Modulus 11."""
    for first_nine in range(start, 999_999_999):
        digit = check_digit(str(first_nine))
        if digit is not None:
            yield f"{first_nine}{digit}"


AGREEMENT_TEXT = {  # the protocol elements a test agreement must carry
    "legal_basis": "UK GDPR Article 6(1)(e) and Article 9(2)(h)",
    "data_quality": "Monthly, mapped to the common data model.",
    "security": "Encrypted at rest and in transit.",
    "retention": "Eight years, then destroyed.",
    "individuals_rights": "Privacy notices describe the sharing; opt-outs apply.",
    "sanctions": "Breaches suspend access.",
}


def agreement_spec(agreement_id: str, **fields: object) -> AgreementSpec:
    """A complete agreement: ``fields`` give at least purpose, providers, recipients, datasets
    and level; the protocol text and dates (2024 to 2030) have defaults."""
    document = {
        "id": agreement_id,
        "title": f"Test agreement {agreement_id}",
        "purpose_description": "Used by the tests of carehub's governance.",
        **AGREEMENT_TEXT,
        "starts_on": "2024-01-01",
        "review_on": "2029-01-01",
        "ends_on": "2030-01-01",
        **fields,
    }
    return AgreementSpec.model_validate(document)


def put_in_force(platform: Platform, spec: AgreementSpec) -> None:
    """Add the agreement and record every party's signature (as a hub admin would)."""
    platform.register.add(ADMIN, spec)
    platform.record_paper_signatures(ADMIN, spec.id, "Test Signatory")


def grant_kpi_computation(platform: Platform, providers: tuple[str, ...] = ("RAJ",)) -> None:
    """The hub may compute the KPIs from the providers' ED attendances."""
    spec = agreement_spec(
        "ISA-TEST-KPI",
        purpose="kpi_computation",
        providers=list(providers),
        recipients=["HUB"],
        datasets=[{"dataset": "ed_attendance"}],
        level="pseudonymised",
    )
    put_in_force(platform, spec)


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
