"""Data quality checks on real submissions: they run once a file is published, their results and
first failing rows are kept in the metadata database with row numbers and fields but never a
value, and a check that cannot run is an error that loses nothing."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner
from workspaces import ADMIN, ED_HEADER, make_platform, nhs_numbers, snapshot

from carehub.cli.main import app
from carehub.errors import Conflict, NotFound, PolicyDenied
from carehub.governance.actors import Actor, Role
from carehub.model.checks import get_check_pack
from carehub.platform import Platform
from carehub.settings import Settings
from carehub.store.tables import AuditEvent, CheckFailure, CheckResult, CheckRun

PLACEHOLDER = "0000000000"  # passes Modulus 11
PLANTED_NUMBER = "9434765919"  # a valid number, duplicated below
PLANTED_TIME = "2025-01-17 21:43:00"  # a time only the duplicated attendance has
RECEIVED = datetime(2025, 2, 3, 9, 0)


def ed_rows() -> list[str]:
    """Twenty clean attendances, then the planted problems (data rows 21-25)."""
    numbers = iter(nhs_numbers())
    rows = [
        f"A{n},{next(numbers)},RAJ01,01,2025-01-{n:02d} 10:00:00,2025-01-{n:02d} 13:00:00,3"
        for n in range(1, 21)
    ]
    rows += [
        f"A21,{PLACEHOLDER},RAJ01,01,2025-01-21 10:00:00,2025-01-21 12:00:00,3",  # 21
        f"A22,{PLANTED_NUMBER},RAJ02,01,{PLANTED_TIME},2025-01-18 01:00:00,2",  # 22
        f"A22,{PLANTED_NUMBER},RAJ02,01,{PLANTED_TIME},2025-01-18 01:00:00,2",  # 23: again
        "A24,,RAJ01,01,2025-01-24 10:00:00,2025-01-24 09:00:00,3",  # 24: leaves before arriving
        "A25,,RAJ01,01,2025-01-25 10:00:00,2025-01-25 11:00:00,",  # 25: no acuity
    ]
    return rows


@pytest.fixture
def hub(tmp_path: Path) -> Platform:
    return make_platform(tmp_path / "home")


@pytest.fixture
def submitted(hub: Platform, tmp_path: Path) -> int:
    path = tmp_path / "raj_ecds_2025-01.csv"
    path.write_text(ED_HEADER + "\n".join(ed_rows()) + "\n", encoding="utf-8")
    receipt = hub.submit(ADMIN, "RAJ", "ed_attendance", path, "2025-01", received_at=RECEIVED)
    assert (receipt.state, receipt.rows_published, receipt.rows_quarantined) == ("published", 24, 1)
    return receipt.submission_id


def test_checks_run_once_a_submission_is_published(hub: Platform, submitted: int) -> None:
    report = hub.check_results(ADMIN, submitted)
    pack = get_check_pack("ed_attendance")
    assert [r.check_id for r in report.results] == [c.id for c in pack.checks]
    assert (report.rows_checked, report.rows_quarantined) == (24, 1)
    results = {r.check_id: r for r in report.results}

    def outcome(check_id: str) -> tuple[str, int | None, int | None]:
        r = results[check_id]
        return r.status, r.failing, r.denominator

    assert outcome("nhs_number_placeholder") == ("failed", 1, 24)
    assert outcome("attendance_id_unique") == ("failed", 1, 24)
    assert outcome("no_duplicate_attendances") == ("failed", 1, 24)
    assert outcome("departure_after_arrival") == ("failed", 1, 25)  # the quarantined row
    assert outcome("acuity_recorded") == ("passed", 1, 24)  # 4.2% of type 1 rows; 5% tolerated
    assert results["acuity_recorded"].failing_pct == pytest.approx(100 / 24)
    assert outcome("age_plausible") == ("passed", 0, 25)
    assert outcome("rows_against_history") == ("not_applicable", None, None)
    assert outcome("received_on_time") == ("not_applicable", None, None)  # no schedule
    assert all(r.status != "error" for r in report.results), [r.error for r in report.results]


def test_failing_rows_are_kept_with_row_number_field_and_reason(
    hub: Platform, submitted: int
) -> None:
    kept = {(c, f.source_row, f.field, f.reason) for c, f in hub.check_failures(ADMIN, submitted)}
    assert {
        ("nhs_number_placeholder", 21, "nhs_number", "DEFAULT_VALUE"),
        ("attendance_id_unique", 23, "attendance_id", "DUPLICATE"),
        ("no_duplicate_attendances", 23, "nhs_number,site_code,arrival_at", "DUPLICATE"),
        ("departure_after_arrival", 24, "departed_at", "DEPARTURE_BEFORE_ARRIVAL"),
        ("acuity_recorded", 25, "acuity", "MISSING"),
    } <= kept
    assert len(kept) == sum(r.captured for r in hub.check_results(ADMIN, submitted).results)


def test_nothing_stored_holds_a_value(hub: Platform, submitted: int) -> None:
    hub.run_checks(ADMIN, submitted)
    _, tables = snapshot(hub.settings.home)
    assert tables["check_failures"] and tables["check_results"]
    stored = json.dumps(tables, default=str)
    for value in (PLANTED_NUMBER, PLACEHOLDER, PLANTED_TIME, "21:43", "2025-01-17"):
        assert value not in stored, value


def test_a_run_on_request_is_kept_beside_the_first_and_audited(
    hub: Platform, submitted: int
) -> None:
    first = hub.check_results(ADMIN, submitted)
    again = hub.run_checks(ADMIN, submitted)
    assert again.run_id > first.run_id
    assert [(r.check_id, r.status, r.failing) for r in again.results] == [
        (r.check_id, r.status, r.failing) for r in first.results
    ]
    assert hub.check_results(ADMIN, submitted).run_id == again.run_id
    with hub.database.session() as session:
        runs = session.scalar(select(func.count()).select_from(CheckRun))
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "quality.checked")
        ).all()
    assert runs == 2 and len(events) == 2
    detail = json.loads(events[-1].detail)
    assert detail["run"] == again.run_id and detail["failed"] == again.count("failed")
    assert hub.verify_audit().events > 2  # the chain still verifies


def test_only_the_sender_and_stewards_see_the_results(hub: Platform, submitted: int) -> None:
    hub.add_organisation(ADMIN, "NUC01", "Urgent treatment centre", "private_provider")
    assert hub.check_results(Actor("sam", "RAJ", Role.SUBMITTER), submitted).run_id
    with pytest.raises(NotFound):
        hub.check_results(Actor("nina", "NUC01", Role.ANALYST), submitted)
    with pytest.raises(NotFound):
        hub.run_checks(Actor("nick", "NUC01", Role.SUBMITTER), submitted)
    with pytest.raises(PolicyDenied):
        hub.run_checks(Actor("rita", "RAJ", Role.ANALYST), submitted)


def gp_file(path: Path) -> Path:
    numbers = iter(nhs_numbers())
    rows = [f"{next(numbers)},F81001,2020-01-0{n},SS7 5DP,1,1980-01-01" for n in range(1, 6)]
    header = "nhs_number,practice_code,registered_on,postcode,sex,birth_date\n"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_check_that_cannot_run_is_an_error_and_loses_nothing(tmp_path: Path) -> None:
    """Without the reference data the reference checks are errors with their cause; every
    other check runs, and the submission is published."""
    settings = Settings(home=tmp_path / "home", shared_data=tmp_path / "nowhere")
    hub = Platform(settings)
    hub.init()
    hub.add_organisation(ADMIN, "QH8", "NHS Mid and South Essex ICB", "icb")
    receipt = hub.submit(ADMIN, "QH8", "gp_registration", gp_file(tmp_path / "reg.csv"), "2025-04")
    assert receipt.state == "published" and receipt.rows_published == 5
    results = {r.check_id: r for r in hub.check_results(ADMIN, receipt.submission_id).results}
    for broken in ("practice_in_ods", "postcode_in_ons_lookup"):
        assert results[broken].status == "error"
        assert results[broken].error is not None and "is missing" in results[broken].error
    assert {r.status for k, r in results.items() if "ons" not in k and "ods" not in k} <= {
        "passed",
        "not_applicable",
    }


def test_the_reference_checks_run_on_the_shared_reference_data(
    tmp_path: Path, shared_data: Path
) -> None:
    hub = Platform(Settings(home=tmp_path / "home", shared_data=shared_data))
    hub.init()
    hub.add_organisation(ADMIN, "QH8", "NHS Mid and South Essex ICB", "icb")
    receipt = hub.submit(ADMIN, "QH8", "gp_registration", gp_file(tmp_path / "reg.csv"), "2025-04")
    results = {r.check_id: r for r in hub.check_results(ADMIN, receipt.submission_id).results}
    assert (results["practice_in_ods"].status, results["practice_in_ods"].failing) == ("passed", 0)
    assert (
        results["postcode_in_ons_lookup"].status,
        results["postcode_in_ons_lookup"].failing,
    ) == (
        "passed",
        0,
    )


def test_volume_is_checked_against_the_providers_earlier_months(
    hub: Platform, tmp_path: Path
) -> None:
    numbers = iter(nhs_numbers())
    sizes = {"2024-10": 10, "2024-11": 10, "2024-12": 10, "2025-01": 20}
    for period, size in sizes.items():
        year, month = period.split("-")
        rows = [
            f"{period}-{n},{next(numbers)},RAJ01,01,{year}-{month}-05 10:00:00,"
            f"{year}-{month}-05 11:00:00,3"
            for n in range(size)
        ]
        path = tmp_path / f"{period}.csv"
        path.write_text(ED_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        receipt = hub.submit(ADMIN, "RAJ", "ed_attendance", path, period)
    results = {r.check_id: r for r in hub.check_results(ADMIN, receipt.submission_id).results}
    volume = results["rows_against_history"]
    assert (volume.status, volume.failing, volume.denominator) == ("failed", 10, 10)


def test_a_rejected_submission_has_nothing_to_check(hub: Platform, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(ED_HEADER + "A1,,RAJ01,01,not a time,also not,3\n", encoding="utf-8")
    receipt = hub.receive(ADMIN, "RAJ", "ed_attendance", path, "2025-01")
    assert hub.run_job(receipt.job_id).state == "rejected"
    with pytest.raises(Conflict, match="no published rows"):
        hub.run_checks(ADMIN, receipt.submission_id)
    with pytest.raises(NotFound, match="has not been checked"):
        hub.check_results(ADMIN, receipt.submission_id)


def test_a_failure_after_publication_is_logged_and_the_submission_stays(
    hub: Platform, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ED_HEADER + "A1,,RAJ01,01,not a time,also not,3\n", encoding="utf-8")
    receipt = hub.receive(ADMIN, "RAJ", "ed_attendance", path, "2025-01")
    with caplog.at_level(logging.ERROR, logger="carehub.platform.quality"):
        hub.check_after_publication(ADMIN, receipt.submission_id, None)  # not published: Conflict
    assert "did not run: Conflict" in caplog.text
    assert hub.submission(ADMIN, receipt.submission_id).state == "received"


def test_the_cli_runs_and_lists_checks(
    hub: Platform, submitted: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREHUB_HOME", str(hub.settings.home))
    monkeypatch.delenv("CAREHUB_DATABASE_URL", raising=False)
    runner = CliRunner()
    ran = runner.invoke(app, ["dq", "run", str(submitted), "--json"])
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    assert report["submission_id"] == submitted
    statuses = {r["check_id"]: r["status"] for r in report["results"]}
    assert statuses["nhs_number_placeholder"] == "failed"
    shown = runner.invoke(app, ["dq", "results", str(submitted), "--failures", "3"])
    assert shown.exit_code == 0 and "failed\tnhs_number_placeholder\t1/24" in shown.stdout
    assert shown.stdout.count("\nrow ") + shown.stdout.startswith("row ") == 3
    listed = runner.invoke(app, ["dq", "checks", "bed_sitrep"])
    assert listed.exit_code == 0
    assert "bed_sitrep\tone_row_per_site_and_day\tuniqueness/verification" in listed.stdout
    schema = json.loads(runner.invoke(app, ["dq", "schema"]).stdout)
    assert schema["title"] == "CheckPack"
    missing = runner.invoke(app, ["dq", "results", "999"])
    assert missing.exit_code != 0 and "there is no submission 999" in missing.output


def test_results_and_failures_tables_agree(hub: Platform, submitted: int) -> None:
    with hub.database.session() as session:
        captured = dict(
            session.execute(
                select(CheckFailure.check_id, func.count()).group_by(CheckFailure.check_id)
            ).all()
        )
        results = {
            r.check_id: (r.captured, r.failing) for r in session.scalars(select(CheckResult))
        }
    assert captured == {k: c for k, (c, _) in results.items() if c}
    assert all(c == f for c, f in results.values() if f is not None and c)  # all under the cap
