"""Rotating the pseudonymisation key, on SQLite and PostgreSQL: every current version is
re-pseudonymised from its raw file under the new key, people still link across datasets, the
past stays readable as it was, and no key material is recorded anywhere."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select
from workspaces import ADMIN, grant_kpi_computation, make_platform

from carehub.errors import PolicyDenied
from carehub.governance.actors import SYSTEM_ACTOR, Actor, Role
from carehub.governance.policy import Level, Purpose
from carehub.model.nhs_number import check_digit
from carehub.platform import Platform
from carehub.store.db import now_utc
from carehub.store.engines import HmacPads
from carehub.store.tables import AuditEvent, Job, Submission
from carehub.store.versions import current_versions

ED_HEADER = "attendance_id,nhs_number,site_code,department_type,arrival_at,departed_at,acuity\n"
SPELL_HEADER = (
    "spell_id,nhs_number,site_code,admission_method,admitted_at,discharged_at,"
    "discharge_destination\n"
)
ROW_ID = {"ed_attendance": "attendance_id", "admitted_spell": "spell_id"}


def valid_nhs_numbers() -> Iterator[str]:
    """Synthetic NHS numbers in the 999 test range that pass Modulus 11."""
    for first_nine in range(999_100_000, 999_200_000):
        digit = check_digit(str(first_nine))
        if digit is not None:
            yield f"{first_nine}{digit}"


P1, P2, P3, P4 = (number for number, _ in zip(valid_nhs_numbers(), range(4), strict=False))


def ed_file(folder: Path, name: str, month: str, people: list[tuple[str, str]]) -> Path:
    rows = [
        f"{row_id},{nhs},RAJ01,01,{month}-05 10:00:00,{month}-05 13:00:00,3\n"
        for row_id, nhs in people
    ]
    path = folder / name
    path.write_text(ED_HEADER + "".join(rows))
    return path


def spell_file(folder: Path, people: list[tuple[str, str]]) -> Path:
    rows = [
        f"{row_id},{nhs},RAJ01,21,2025-01-02 10:00:00,2025-01-09 12:00:00,19\n"
        for row_id, nhs in people
    ]
    path = folder / "spells.csv"
    path.write_text(SPELL_HEADER + "".join(rows))
    return path


def pseudonym(key: bytes, nhs_number: str) -> bytes:
    return hmac.new(key, nhs_number.encode(), hashlib.sha256).digest()


def key_in(hub: Platform) -> bytes:
    return bytes.fromhex(hub.settings.resolved_key_file.read_text().strip())


def person_ids(hub: Platform, dataset: str, as_of: datetime | None = None) -> dict[str, bytes]:
    """Row id -> person_id over the versions current now (or as of a moment), from the lake."""
    with hub.database.session() as session:
        versions = current_versions(session, dataset, as_of)
    paths = [str(hub.lake.resolve(v.standard_path)) for v in versions]
    column = ROW_ID[dataset]
    rows = duckdb.sql(f"SELECT {column}, person_id FROM read_parquet({paths!r})").fetchall()
    return {str(row_id): bytes(person) for row_id, person in rows}


def run_jobs(hub: Platform) -> int:
    return hub.work(threading.Event(), once=True)


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Platform:
    hub = make_platform(tmp_path / "home", database_url)
    grant_kpi_computation(hub)
    return hub


@pytest.fixture
def published(hub: Platform, tmp_path: Path) -> dict[str, int]:
    """Three current versions in two datasets (P1 and P2 in both) and one superseded version."""
    january = [("E1", P1), ("E2", P2), ("E3", P1), ("E4", P3)]
    first = hub.submit(
        ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "v1.csv", "2025-01", [("E0", P4)])
    )
    second = hub.submit(
        ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "v2.csv", "2025-01", january)
    )
    february = hub.submit(
        ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "feb.csv", "2025-02", [("F1", P3)])
    )
    spells = hub.submit(
        ADMIN, "RAJ", "admitted_spell", spell_file(tmp_path, [("S1", P1), ("S2", P2), ("S3", P4)])
    )
    assert second.superseded == first.submission_id
    return {
        "superseded": first.submission_id,
        "january": second.submission_id,
        "february": february.submission_id,
        "spells": spells.submission_id,
    }


EXPECTED_PEOPLE = {
    "ed_attendance": {"E1": P1, "E2": P2, "E3": P1, "E4": P3, "F1": P3},
    "admitted_spell": {"S1": P1, "S2": P2, "S3": P4},
}


def assert_pseudonymised_under(hub: Platform, key: bytes, as_of: datetime | None = None) -> None:
    for dataset, people in EXPECTED_PEOPLE.items():
        expected = {row_id: pseudonym(key, nhs) for row_id, nhs in people.items()}
        assert person_ids(hub, dataset, as_of) == expected, dataset


def test_rotation_re_pseudonymises_every_current_version_and_keeps_linkage(
    hub: Platform, published: dict[str, int]
) -> None:
    old_key = key_in(hub)
    old_id = hmac.new(old_key, b"carehub key id", hashlib.sha256).hexdigest()[:16]
    assert hub.key_status(ADMIN).rotation.versions_by_key == {old_id: 3}
    assert_pseudonymised_under(hub, old_key)
    before = now_utc()
    time.sleep(0.01)

    report = hub.rotate_key(ADMIN)

    new_key = key_in(hub)
    new_id = hmac.new(new_key, b"carehub key id", hashlib.sha256).hexdigest()[:16]
    assert new_key != old_key and (report.previous_key_id, report.key_id) == (old_id, new_id)
    assert report.jobs_queued == 3 and not report.complete  # current versions only
    assert report.retired is not None and report.retired.read_text().strip() == old_key.hex()
    assert report.retired.stat().st_mode & 0o777 == 0o600
    assert report.retired.parent == hub.settings.resolved_key_file.parent / "retired"
    assert report.retired.name.startswith(f"pseudonym-{old_id}-")
    during = hub.key_status(ADMIN).rotation
    assert (during.complete, during.stale, during.waiting, during.unqueued) == (False, 3, 3, 0)
    assert during.versions_by_key == {old_id: 3}  # readers keep the old versions meanwhile
    assert_pseudonymised_under(hub, old_key)

    assert run_jobs(hub) == 3

    status = hub.key_status(ADMIN)
    assert status.key_id == new_id and status.mode == "0600" and status.owner_only
    assert status.rotation.complete and status.rotation.versions_by_key == {new_id: 3}
    with hub.database.session() as session:
        keys = {s.id: (s.state, s.key_id) for s in session.scalars(select(Submission))}
    assert keys == {
        published["superseded"]: ("superseded", old_id),
        published["january"]: ("published", new_id),
        published["february"]: ("published", new_id),
        published["spells"]: ("published", new_id),
    }
    # Under the new key: every person_id changed, the same NHS number gives the same person_id
    # in both datasets and both files, and different people stay different.
    assert_pseudonymised_under(hub, new_key)
    ed, spells = person_ids(hub, "ed_attendance"), person_ids(hub, "admitted_spell")
    assert ed["E1"] == ed["E3"] == spells["S1"] and ed["E2"] == spells["S2"]
    assert ed["E4"] == ed["F1"] and len({*ed.values(), *spells.values()}) == 4
    assert not {*ed.values(), *spells.values()} & {pseudonym(old_key, p) for p in (P1, P2, P3, P4)}
    # As of before the rotation, the old versions are read, as they were.
    assert_pseudonymised_under(hub, old_key, as_of=before)
    read = hub.reader.read_standard(
        SYSTEM_ACTOR, Purpose.KPI_COMPUTATION, "ed_attendance", Level.PSEUDONYMISED, as_of=before
    )
    assert read.source is not None
    governed = duckdb.sql(f"SELECT person_id FROM {read.source.sql('duckdb')}").fetchall()
    assert sorted(bytes(p) for (p,) in governed) == sorted(
        pseudonym(old_key, p) for p in (P1, P2, P1, P3, P3)
    )
    # The rotation's start and completion are audited, with key ids and never key material.
    actions = audit_actions(hub)
    assert actions.count("submission.repseudonymised") == 3
    assert actions.count("keys.rotate.started") == actions.count("keys.rotate.completed") == 1
    assert_no_key_material(hub, old_key, new_key)
    assert hub.verify_audit().events == len(actions)
    # Nothing is left to do, and the KPIs run over the new versions.
    assert hub.rotate_key(ADMIN, resume=True).jobs_queued == 0
    assert hub.run_metrics(ids=["ed_four_hours"])[0].submissions == 2


def test_a_version_superseded_during_rotation_is_not_republished(
    hub: Platform, published: dict[str, int], tmp_path: Path
) -> None:
    hub.rotate_key(ADMIN)
    new_key = key_in(hub)
    late = ed_file(tmp_path, "feb-v2.csv", "2025-02", [("F1", P3), ("F2", P2)])
    replacement = hub.submit(ADMIN, "RAJ", "ed_attendance", late)
    assert replacement.superseded == published["february"]

    assert run_jobs(hub) == 3

    february = hub.intake.get(published["february"])
    assert february.state == "superseded" and february.key_id != hub.key_status(ADMIN).key_id
    assert not list(hub.lake.root.rglob(f"{published['february']}-*.parquet"))
    ed = person_ids(hub, "ed_attendance")
    assert ed["F2"] == ed["E2"] == pseudonym(new_key, P2)
    status = hub.key_status(ADMIN).rotation
    assert status.complete and status.versions == 3
    assert audit_actions(hub).count("keys.rotate.completed") == 1


def test_a_version_superseded_while_it_is_re_pseudonymised_stays_superseded(
    hub: Platform, published: dict[str, int], tmp_path: Path
) -> None:
    hub.rotate_key(ADMIN)
    with hub.database.session() as session:
        job_id = session.scalars(
            select(Job.id).where(Job.submission_id == published["february"])
        ).all()[-1]
    late = ed_file(tmp_path, "feb-v2.csv", "2025-02", [("F2", P2)])
    replacements = []

    def supersede_before_publishing(_fraction: float, stage: str) -> None:
        if stage == "writing the standard zone" and not replacements:
            replacements.append(hub.submit(ADMIN, "RAJ", "ed_attendance", late))

    hub.run_job(job_id, progress=supersede_before_publishing)

    assert replacements[0].superseded == published["february"]
    assert hub.intake.get(published["february"]).state == "superseded"
    assert not list(hub.lake.root.rglob(f"{published['february']}-*.parquet"))
    ed = person_ids(hub, "ed_attendance")
    assert "F1" not in ed and ed["F2"] == pseudonym(key_in(hub), P2)


def test_a_failed_re_pseudonymisation_leaves_the_rotation_incomplete_until_retried(
    hub: Platform, published: dict[str, int], tmp_path: Path
) -> None:
    old_key = key_in(hub)
    # The trust's mapping changes so that the January file no longer goes through.
    mapping = tmp_path / "mapping.yaml"
    columns = [c for c in ED_HEADER.strip().split(",") if c != "site_code"]
    fields = "\n".join(f"  {c}: {c}" for c in columns)
    mapping.write_text(
        "organisation: RAJ\ndataset: ed_attendance\nversion: 2\nfields:\n"
        f"{fields}\n  site_code: Site\n"
    )
    hub.install_mapping(ADMIN, mapping)
    hub.rotate_key(ADMIN)

    assert run_jobs(hub) == 3

    status = hub.key_status(ADMIN).rotation
    assert (status.complete, status.stale, status.failed, status.waiting) == (False, 2, 2, 0)
    with hub.database.session() as session:
        failed = list(session.scalars(select(Job).where(Job.state == "failed")))
    assert {job.submission_id for job in failed} == {published["january"], published["february"]}
    assert all("no column 'Site'" in (job.error or "") for job in failed)
    assert person_ids(hub, "ed_attendance") == {
        row_id: pseudonym(old_key, nhs) for row_id, nhs in EXPECTED_PEOPLE["ed_attendance"].items()
    }  # the old versions stay current and readable
    assert audit_actions(hub).count("submission.repseudonymise_failed") == 2
    assert "keys.rotate.completed" not in audit_actions(hub)

    fixed = mapping.read_text().replace("version: 2", "version: 3").replace("Site", "site_code")
    mapping.write_text(fixed)
    hub.install_mapping(ADMIN, mapping)
    for job in failed:
        hub.retry_job(ADMIN, job.id)
    assert run_jobs(hub) == 2

    assert hub.key_status(ADMIN).rotation.complete
    assert_pseudonymised_under(hub, key_in(hub))
    assert audit_actions(hub).count("keys.rotate.completed") == 1


def test_only_an_admin_rotates_and_a_steward_sees_only_the_key_id(
    hub: Platform, published: dict[str, int]
) -> None:
    steward = Actor("steward", "HUB", Role.STEWARD)
    before = key_in(hub)
    with pytest.raises(PolicyDenied):
        hub.rotate_key(steward)
    assert key_in(hub) == before
    assert not (hub.settings.resolved_key_file.parent / "retired").exists()
    status = hub.key_status(steward)
    assert status.key_id == HmacPads.from_key(before).key_id
    assert before.hex() not in json.dumps(status, default=str)
    with pytest.raises(PolicyDenied):
        hub.key_status(Actor("viewer", "HUB", Role.VIEWER))


def test_a_new_key_id_is_recorded_with_each_version_published_after_rotation(
    hub: Platform, tmp_path: Path
) -> None:
    hub.rotate_key(ADMIN)
    report = hub.rotate_key(ADMIN, resume=True)
    assert report.complete and report.jobs_queued == 0  # nothing was published before
    receipt = hub.submit(
        ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "jan.csv", "2025-01", [("E1", P1)])
    )
    assert hub.intake.get(receipt.submission_id).key_id == report.key_id
    assert person_ids(hub, "ed_attendance") == {"E1": pseudonym(key_in(hub), P1)}


def audit_actions(hub: Platform) -> list[str]:
    with hub.database.session() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def assert_no_key_material(hub: Platform, *keys: bytes) -> None:
    """Neither a key nor its HMAC pads appear in the audit log or the job queue, in any form."""
    with hub.database.session() as session:
        recorded = [
            f"{e.actor} {e.target} {e.detail}" for e in session.scalars(select(AuditEvent))
        ] + [f"{j.payload} {j.error} {j.stage}" for j in session.scalars(select(Job))]
    text = "\n".join(recorded).lower()
    for key in keys:
        pads = HmacPads.from_key(key)
        for secret in (key, pads.inner, pads.outer):
            assert secret.hex() not in text
            assert secret.hex()[:16] not in text
