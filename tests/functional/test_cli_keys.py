"""`carehub keys status` and `carehub keys rotate` through Typer's runner on a real workspace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carehub.cli.main import app

ED = (
    "attendance_id,nhs_number,site_code,department_type,arrival_at,"
    "initial_assessment_at,departed_at,acuity,age_years,sex\n"
    "A1,9990000018,RAJ01,01,2025-01-03 10:00:00,,2025-01-03 13:00:00,3,45,1\n"
    "A2,9990000026,RAJ01,01,2025-01-04 10:00:00,,2025-01-04 12:00:00,2,30,2\n"
)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CAREHUB_HOME", str(home))
    monkeypatch.delenv("CAREHUB_DATABASE_URL", raising=False)
    monkeypatch.setenv("CAREHUB_NEW_PASSWORD", "correct-horse-battery")
    run("init")
    run("orgs", "add", "RAJ", "Mid and South Essex NHS Foundation Trust", "--kind", "trust")
    run("users", "add", "steward", "--org", "HUB", "--role", "steward")
    path = tmp_path / "ed.csv"
    path.write_text(ED)
    run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path))
    return home


def run(*args: str, code: int = 0, input: str | None = None) -> str:
    result = CliRunner().invoke(app, list(args), input=input)
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
    return result.output


def key_of(path: Path) -> str:
    return path.read_text().strip()


def test_status_and_rotation_from_the_command_line(workspace: Path) -> None:
    key_file = workspace / "keys" / "pseudonym.key"
    old_key = key_of(key_file)
    outputs = [status := run("keys", "status", "--user", "steward")]
    old_id = json.loads(run("keys", "status", "--json"))["key_id"]
    assert f"key {old_id} in {key_file} (mode 0600, owner only)" in status
    assert f"1  {old_id}  (current key)" in status and "rotation complete" in status

    outputs.append(refused := run("keys", "rotate", "--yes", "--user", "steward", code=7))
    assert "may not rotate the pseudonymisation key" in refused
    outputs.append(run("keys", "rotate", input="n\n", code=1))
    assert key_of(key_file) == old_key and not (workspace / "keys" / "retired").exists()

    outputs.append(rotated := run("keys", "rotate", input="y\n"))
    new_key = key_of(key_file)
    retired = workspace / "keys" / "retired"
    (retired_file,) = retired.iterdir()
    assert new_key != old_key and key_of(retired_file) == old_key
    assert retired_file.stat().st_mode & 0o777 == 0o600
    assert retired_file.name.startswith(f"pseudonym-{old_id}-") and str(retired_file) in rotated
    assert "1 re-pseudonymisation job(s) queued" in rotated
    assert "carehub metrics run" in rotated and "carehub keys status" in rotated

    outputs.append(during := run("keys", "status"))
    new_id = json.loads(run("keys", "status", "--json"))["key_id"]
    assert new_id != old_id and f"key {new_id} in" in during
    assert "rotation incomplete: 1 current version(s)" in during and f"1  {old_id}\n" in during
    assert "1  waiting: run `carehub worker --once`" in during
    assert f"retired key {retired_file.name} (mode 0600)" in during

    outputs.append(run("worker", "--once"))
    outputs.append(after := run("keys", "status", "--json"))
    report = json.loads(after)
    assert report["owner_only"] and report["mode"] == "0600"
    assert report["rotation"]["complete"] and report["rotation"]["versions_by_key"] == {new_id: 1}
    assert report["retired"] == [{"file": retired_file.name, "mode": "0600", "owner_only": True}]
    outputs.append(resumed := run("keys", "rotate", "--resume", "--json"))
    assert json.loads(resumed)["jobs_queued"] == 0 and json.loads(resumed)["complete"]
    outputs.append(run("audit", "verify"))

    for key in (old_key, new_key):
        assert all(key not in output and key.upper() not in output for output in outputs)
