"""Submissions, supersession, as-of reads and atomic publication, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import select
from workspaces import ADMIN, grant_kpi_computation, make_platform

from carehub.governance.actors import SYSTEM_ACTOR
from carehub.governance.policy import Level, Purpose
from carehub.platform import Platform
from carehub.store.db import now_utc
from carehub.store.tables import CurrentVersion, Submission

HEADER = (
    "attendance_id,nhs_number,site_code,department_type,arrival_at,"
    "initial_assessment_at,departed_at,acuity,age_years,sex\n"
)


def ed_file(folder: Path, name: str, rows: int, minutes: int = 90) -> Path:
    lines = [
        f"A{n},9990000018,RAJ01,01,2025-01-{n % 28 + 1:02d} 10:00:00,,2025-01-{n % 28 + 1:02d} "
        f"{10 + minutes // 60:02d}:{minutes % 60:02d}:00,3,40,1\n"
        for n in range(rows)
    ]
    path = folder / name
    path.write_text(HEADER + "".join(lines))
    return path


@pytest.fixture
def hub(tmp_path: Path, database_url: str) -> Platform:
    hub = make_platform(tmp_path / "home", database_url)
    grant_kpi_computation(hub)
    return hub


def _rows(hub: Platform) -> int:
    read = hub.reader.read_standard(
        SYSTEM_ACTOR, Purpose.KPI_COMPUTATION, "ed_attendance", Level.PSEUDONYMISED
    )
    assert read.source is not None
    return int(duckdb.sql(f"SELECT count(*) FROM {read.source.sql('duckdb')}").fetchall()[0][0])


def test_a_later_submission_supersedes_and_as_of_rebuilds_the_past(
    hub: Platform, tmp_path: Path
) -> None:
    first = hub.submit(ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "v1.csv", 10), "2025-01")
    between = now_utc()
    time.sleep(0.01)
    second = hub.submit(ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "v2.csv", 25), "2025-01")
    assert second.superseded == first.submission_id
    assert _rows(hub) == 25
    past = hub.reader.read_standard(
        SYSTEM_ACTOR, Purpose.KPI_COMPUTATION, "ed_attendance", Level.PSEUDONYMISED, as_of=between
    )
    assert [v.submission_id for v in past.versions] == [first.submission_id]
    states = {s.id: s.state for s in hub.submissions()}
    assert states == {first.submission_id: "superseded", second.submission_id: "published"}


def test_the_same_bytes_are_not_processed_twice(hub: Platform, tmp_path: Path) -> None:
    path = ed_file(tmp_path, "v1.csv", 10)
    first = hub.submit(ADMIN, "RAJ", "ed_attendance", path, "2025-01")
    again = hub.submit(ADMIN, "RAJ", "ed_attendance", path, "2025-01")
    assert again.duplicate and again.submission_id == first.submission_id
    assert len(hub.submissions()) == 1


def test_a_failed_publication_leaves_the_current_version_alone(
    hub: Platform, tmp_path: Path
) -> None:
    first = hub.submit(ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "v1.csv", 10), "2025-01")
    # A real failure: a folder sits where the next submission's Parquet file must go.
    blocker = hub.lake.standard_path("ed_attendance", "RAJ", "2025-01", first.submission_id + 1)
    blocker.mkdir(parents=True)
    with pytest.raises(OSError):
        hub.submit(ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path, "v2.csv", 25), "2025-01")
    with hub.database.session() as session:
        pointer = session.scalars(select(CurrentVersion)).one()
        failed = session.get_one(Submission, first.submission_id + 1)
        assert failed.state == "received"  # not the sender's fault: it waits for a retry
    job = hub.jobs.for_submission(first.submission_id + 1)
    assert job is not None and job.state == "failed" and "IsADirectoryError" in (job.error or "")
    assert _rows(hub) == 10
    assert not hub.lake.quarantine_path("ed_attendance", first.submission_id + 1).exists()
    assert hub.lake.raw_path(failed.sha256).is_file()  # the file as sent is kept
    assert pointer.publication_id is not None
    assert hub.verify_audit().events > 0
    blocker.rmdir()  # the operator fixes the cause and retries
    hub.retry_job(ADMIN, job.id)
    retried = hub.run_job(job.id)
    assert retried.state == "published" and retried.superseded == first.submission_id
    assert _rows(hub) == 25
