"""Killing a worker in the middle of a submission: the previous version stays published, the raw
file is kept, and the job is taken up again once its lease runs out."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
from workspaces import ADMIN, grant_kpi_computation, make_platform

from carehub.governance.actors import SYSTEM_ACTOR
from carehub.governance.policy import Level, Purpose
from carehub.platform import Platform
from carehub.settings import Settings

HEADER = (
    "attendance_id,nhs_number,site_code,department_type,arrival_at,"
    "initial_assessment_at,departed_at,acuity,age_years,sex\n"
)
BIG_ROWS = 600_000  # enough work that the kill lands mid-way on a loaded 2-core machine
LEASE_SECONDS = 1.0
WORKER = [sys.executable, "-c", "from carehub.cli.main import app; app()", "worker", "--once"]


def ed_file(path: Path, rows: int) -> Path:
    line = "A{n},9990000018,RAJ01,01,2025-01-07 10:00:00,,2025-01-07 13:30:00,3,40,1\n"
    with path.open("w") as handle:
        handle.write(HEADER)
        handle.writelines(line.format(n=n) for n in range(rows))
    return path


def published_rows(hub: Platform) -> tuple[list[int], int]:
    read = hub.reader.read_standard(
        SYSTEM_ACTOR, Purpose.KPI_COMPUTATION, "ed_attendance", Level.PSEUDONYMISED
    )
    assert read.source is not None
    count = duckdb.sql(f"SELECT count(*) FROM {read.source.sql('duckdb')}").fetchall()[0][0]
    return [v.submission_id for v in read.versions], int(count)


def test_a_killed_worker_loses_nothing_and_the_job_is_retried(tmp_path: Path) -> None:
    home = tmp_path / "home"
    hub = make_platform(home)
    grant_kpi_computation(hub)
    first = hub.submit(ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path / "v1.csv", 20), "2025-01")
    queued = hub.receive(ADMIN, "RAJ", "ed_attendance", ed_file(tmp_path / "v2.csv", BIG_ROWS))
    assert queued.state == "received" and queued.job_id is not None

    env = {**os.environ, "CAREHUB_HOME": str(home), "CAREHUB_JOB_LEASE_SECONDS": "1"}
    env.pop("CAREHUB_DATABASE_URL", None)
    worker = subprocess.Popen(WORKER, env=env, stderr=subprocess.DEVNULL)
    stage = ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = hub.jobs.get(queued.job_id)
        stage = job.stage
        if job.state == "running" and job.progress >= 0.4:  # checking or writing rows
            break
        assert job.state in ("queued", "running"), f"the job ended before the kill: {job}"
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert stage in ("checking rows", "writing the standard zone"), stage

    assert published_rows(hub) == ([first.submission_id], 20)
    stopped = hub.intake.get(queued.submission_id)
    assert stopped.state == "validating"
    assert hub.lake.raw_path(queued.sha256).read_bytes() == (tmp_path / "v2.csv").read_bytes()
    assert hub.jobs.get(queued.job_id).state == "running"  # until its lease runs out

    time.sleep(LEASE_SECONDS + 0.2)
    restarted = Platform(Settings(home=home, job_lease_seconds=LEASE_SECONDS))
    assert restarted.work(threading.Event(), once=True) == 1
    job = restarted.jobs.get(queued.job_id)
    assert (job.state, job.attempts) == ("done", 2)
    receipt = restarted.submission(ADMIN, queued.submission_id)
    assert receipt.state == "published" and receipt.rows_published == BIG_ROWS
    assert published_rows(restarted) == ([queued.submission_id], BIG_ROWS)
    assert restarted.intake.get(first.submission_id).state == "superseded"
    assert restarted.verify_audit().events > 0
