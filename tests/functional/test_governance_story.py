"""The governance story of the demo, end to end through the CLI on the synthetic ICS: an analyst
at the acute trust sees the trust's own pseudonymised rows, only aggregates of the other
providers, nothing of a partner without an agreement; a steward can see why; and the audit log
verifies, then fails once a row of it is edited behind the application's back."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from carehub.cli.main import app
from carehub.platform import Platform


@pytest.fixture(scope="module")
def home(demo_platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the demo workspace, so that editing its audit log leaves the shared one alone."""
    copy = tmp_path_factory.mktemp("story") / "home"
    shutil.copytree(demo_platform.settings.home, copy)
    return copy


def run(home: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env={"CAREHUB_HOME": str(home)})
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
    return result.stdout


def test_the_trusts_analyst_sees_own_rows_and_others_only_in_aggregate(home: Path) -> None:
    rows = run(
        home,
        "data",
        "rows",
        "ed_attendance",
        "--purpose",
        "service_planning",
        "--user",
        "raj.analyst",
        "--limit",
        "200",
    )
    records = list(csv.DictReader(io.StringIO(rows)))
    assert len(records) == 200 and {r["org_code"] for r in records} == {"RAJ"}
    assert "nhs_number" not in records[0] and len(records[0]["person_id"]) == 64
    run(
        home,
        "data",
        "rows",
        "ed_attendance",
        "--purpose",
        "performance_monitoring",
        "--user",
        "raj.analyst",
        code=7,
    )
    counts = json.loads(
        run(
            home,
            "data",
            "counts",
            "ed_attendance",
            "--purpose",
            "performance_monitoring",
            "--by",
            "org_code",
            "--user",
            "raj.analyst",
            "--json",
        )
    )
    assert [line[0] for line in counts["grid"][1:-1]] == ["NUC01", "RAJ"]
    assert counts["agreements"] == ["ISA-MSE-001"]


def test_nothing_from_a_partner_without_an_agreement_and_the_steward_sees_why(home: Path) -> None:
    run(
        home,
        "data",
        "counts",
        "dpp_event",
        "--purpose",
        "performance_monitoring",
        "--by",
        "org_code",
        "--user",
        "raj.analyst",
        code=7,
    )
    lines = json.loads(
        run(
            home,
            "access",
            "explain",
            "raj.analyst",
            "--dataset",
            "dpp_event",
            "--denied",
            "--user",
            "steward",
            "--json",
        )
    )
    assert lines and not any(line["allowed"] for line in lines)
    monitoring = [line for line in lines if line["purpose"] == "performance_monitoring"]
    assert all("no agreement shares dpp_event with RAJ" in line["reason"] for line in monitoring)
    assert all("RAJ as a recipient" in line["needed"] for line in monitoring)
    # An analyst may not look into someone else's access.
    run(home, "access", "explain", "icb.analyst", "--user", "raj.analyst", code=7)


def test_the_agreements_are_listed_and_the_audit_log_catches_an_edit(home: Path) -> None:
    listed = json.loads(run(home, "agreements", "list", "--json"))
    assert [a["id"] for a in listed] == [f"ISA-MSE-00{n}" for n in range(1, 6)]
    assert all(a["in_force"] for a in listed)
    assert (
        "audit log intact"
        in CliRunner().invoke(app, ["audit", "verify"], env={"CAREHUB_HOME": str(home)}).output
    )
    engine = create_engine(f"sqlite:///{home / 'carehub.db'}")
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_events SET detail = '{}' WHERE action = 'read' AND seq = "
                "(SELECT min(seq) FROM audit_events WHERE action = 'read')"
            )
        )
    engine.dispose()
    broken = CliRunner().invoke(app, ["audit", "verify"], env={"CAREHUB_HOME": str(home)})
    assert broken.exit_code == 9 and "was edited" in broken.output
