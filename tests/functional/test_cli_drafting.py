"""`carehub mappings draft` and `carehub mappings test` through Typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner
from workspaces import snapshot

from carehub.cli.main import app

HEADER = "AttendanceRef,NHSNumber,SiteCode,DeptType,ArrivalDateTime,DepartureDateTime,Gender,Acuity"
ROWS = [
    "A1,943 476 5919,RAJ01,1,03/01/2025 10:00,03/01/2025 13:00,M,3",
    "A2,9434765918,RAJ01,1,03/01/2025 11:00,03/01/2025 16:00,F,2",
    "A3,9990000018,RAJ01,1,14/01/2025 11:00,14/01/2025 15:00,F,2",
    "A4,9990000026,RAJ02,3,15/01/2025 09:00,15/01/2025 09:40,U,4",
]
NHS_NUMBERS = ("9434765919", "943 476 5919", "9434765918", "9990000018", "9990000026")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CAREHUB_HOME", str(home))
    monkeypatch.delenv("CAREHUB_DATABASE_URL", raising=False)
    monkeypatch.setenv("CAREHUB_NEW_PASSWORD", "a-long-enough-password")
    invoke("init")
    invoke("orgs", "add", "RAJ", "Mid and South Essex NHS Foundation Trust", "--kind", "trust")
    return home


def invoke(*args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
    return result


@pytest.fixture
def ed_file(tmp_path: Path) -> Path:
    path = tmp_path / "RAJ_ECDS_2025-01.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def _filled(text: str) -> str:
    """The steward's edit of the draft: the local sex codes translated."""
    return (
        text.replace("    # values:\n", "    values:\n")
        .replace('#   "M": ""', '  "M": "1"')
        .replace('#   "F": ""', '  "F": "2"')
        .replace('#   "U": ""', '  "U": "X"')
    )


def test_draft_then_test_then_install_and_submit(
    workspace: Path, ed_file: Path, tmp_path: Path
) -> None:
    drafted = invoke(
        "mappings", "draft", str(ed_file), "--org", "RAJ", "--dataset", "ed_attendance"
    )
    report = drafted.stderr
    assert "'DeptType'" in report and "format %d/%m/%Y %H:%M" in report
    assert '"M" -> ? (1 sample rows)' in report and '"1" -> "01" (obvious)' in report
    mapping = yaml.safe_load(drafted.stdout)
    assert mapping["fields"]["department_type"] == {
        "column": "DeptType",
        "values": {"1": "01", "3": "03"},
    }
    assert mapping["fields"]["arrival_at"] == {
        "column": "ArrivalDateTime",
        "format": "%d/%m/%Y %H:%M",
    }
    draft = tmp_path / "draft.yaml"
    draft.write_text(_filled(drafted.stdout), encoding="utf-8")
    before = snapshot(workspace)
    trial = json.loads(invoke("mappings", "test", str(draft), str(ed_file), "--json").stdout)
    files, tables = snapshot(workspace)
    assert files == before[0]
    assert {k: v for k, v in tables.items() if k != "audit_events"} == {
        k: v for k, v in before[1].items() if k != "audit_events"
    }
    assert (trial["rows_read"], trial["rows_would_publish"], trial["rows_would_quarantine"]) == (
        4,
        3,
        1,
    )
    assert trial["reasons"] == {"NHS_NUMBER_INVALID:nhs_number": 1}
    assert "Modulus 11" in trial["reason_help"]["NHS_NUMBER_INVALID:nhs_number"]
    assert trial["period"] == "2025-01" and trial["refusal"] is None
    invoke("mappings", "add", str(draft))
    receipt = json.loads(
        invoke(
            "submit", "--org", "RAJ", "--dataset", "ed_attendance", str(ed_file), "--json"
        ).stdout
    )
    assert (receipt["rows_read"], receipt["rows_published"], receipt["rows_quarantined"]) == (
        4,
        3,
        1,
    )
    again = invoke("mappings", "test", str(draft), str(ed_file))
    assert f"already submission {receipt['submission_id']}" in again.stderr


def test_the_draft_can_be_written_to_a_new_file_only(
    workspace: Path, ed_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "draft.yaml"
    args = ("mappings", "draft", str(ed_file), "--org", "RAJ", "--dataset", "ed_attendance")
    result = invoke(*args, "--out", str(out))
    assert result.stdout == "" and f"draft written to {out}" in result.stderr
    assert yaml.safe_load(out.read_text())["organisation"] == "RAJ"
    out.write_text("the steward's edits")
    assert "already exists" in invoke(*args, "--out", str(out), code=8).stderr
    assert out.read_text() == "the steward's edits"


def test_a_file_submit_would_refuse_is_refused_and_nothing_changes(
    workspace: Path, ed_file: Path, tmp_path: Path
) -> None:
    drafted = invoke(
        "mappings", "draft", str(ed_file), "--org", "RAJ", "--dataset", "ed_attendance"
    )
    draft = tmp_path / "draft.yaml"
    draft.write_text(drafted.stdout, encoding="utf-8")  # the sex codes left untranslated
    before = snapshot(workspace)[0]
    refused = invoke("mappings", "test", str(draft), str(ed_file), code=5)
    assert "none of the 4 rows passed" in refused.stderr
    assert "UNKNOWN_CODE:sex" in refused.stderr and "not in the field's code set" in refused.stderr
    no_column = tmp_path / "short.csv"
    no_column.write_text(HEADER.replace(",DepartureDateTime", "") + "\n", encoding="utf-8")
    missing = invoke("mappings", "test", str(draft), str(no_column), code=5)
    assert "no column 'DepartureDateTime' (field departed_at)" in missing.stderr
    assert snapshot(workspace)[0] == before
    for output in (drafted.stderr, refused.output, missing.output):
        assert not any(number in output for number in NHS_NUMBERS)


def test_only_stewards_and_administrators_draft_and_test(
    workspace: Path, ed_file: Path, tmp_path: Path
) -> None:
    invoke("users", "add", "viewer1", "--org", "RAJ", "--role", "viewer")
    invoke("users", "add", "steward1", "--org", "RAJ", "--role", "steward")
    draft = ("mappings", "draft", str(ed_file), "--org", "RAJ", "--dataset", "ed_attendance")
    denied = invoke(*draft, "--user", "viewer1", code=7)
    assert "may not draft feed mappings" in denied.stderr
    allowed = invoke(*draft, "--user", "steward1")
    path = tmp_path / "draft.yaml"
    path.write_text(_filled(allowed.stdout), encoding="utf-8")
    test = ("mappings", "test", str(path), str(ed_file))
    assert "may not test feed mappings" in invoke(*test, "--user", "viewer1", code=7).stderr
    invoke(*test, "--user", "steward1")


def test_audit_events_of_drafting_hold_counts_not_values(
    workspace: Path, ed_file: Path, tmp_path: Path
) -> None:
    drafted = invoke(
        "mappings", "draft", str(ed_file), "--org", "RAJ", "--dataset", "ed_attendance"
    )
    draft = tmp_path / "draft.yaml"
    draft.write_text(_filled(drafted.stdout), encoding="utf-8")
    invoke("mappings", "test", str(draft), str(ed_file))
    events = snapshot(workspace)[1]["audit_events"]
    details = {e[3]: json.loads(e[6]) for e in events if e[3].startswith("mapping.")}
    assert details["mapping.draft"] == {
        "file": ed_file.name,
        "sample_rows": 4,
        "columns": 8,
        "fields_matched": 8,
        "problems": 0,
    }
    assert details["mapping.test"] == {
        "file": ed_file.name,
        "outcome": "checked",
        "rows_read": 4,
        "rows_would_publish": 3,
        "rows_would_quarantine": 1,
    }
    assert json.loads(invoke("audit", "verify", "--json").stdout)["events"] == len(events)


def test_a_workbook_is_drafted_from_the_sheet_and_row_that_hold_the_header(
    workspace: Path, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    book.create_sheet("Notes").append(["Monthly return of attendances."])
    sheet = book.create_sheet("Attendances")
    sheet.append(["Urgent treatment centre attendances"])
    sheet.append([])
    sheet.append(["Site", "Patient NHS No", "Arrival", "Left", "Sex", "Ref"])
    for i, row in enumerate(ROWS):
        cells = row.split(",")
        sheet.append(
            [cells[2], int(cells[1].replace(" ", "")), cells[4], cells[5], "Male", f"R{i}"]
        )
    path = tmp_path / "utc.xlsx"
    book.save(path)
    args = ("mappings", "draft", str(path), "--org", "RAJ", "--dataset", "ed_attendance")
    result = json.loads(invoke(*args, "--json").stdout)
    draft = result["draft"]
    assert (draft["sheet"], draft["header_row"]) == ("Attendances", 3)
    columns = {f["name"]: f["column"] for f in draft["fields"] if f["column"]}
    assert columns == {
        "site_code": "Site",
        "nhs_number": "Patient NHS No",
        "arrival_at": "Arrival",
        "departed_at": "Left",
        "sex": "Sex",
        "attendance_id": "Ref",
    }
    assert 'sheet: "Attendances"\nheader_row: 3\n' in result["yaml"]
    assert any(p.startswith("department_type (required)") for p in draft["problems"])
    given = json.loads(
        invoke(*args, "--sheet", "Attendances", "--header-row", "3", "--json").stdout
    )
    assert given["yaml"] == result["yaml"]


def test_an_independent_messy_extract(workspace: Path, shared_data: Path) -> None:
    """The ODI's synthetic London A&E extract: its own names, 3-3-4 identifiers that mostly fail
    Modulus 11, ISO arrival times, words for gender and real-looking postcodes."""
    path = shared_data / "odi_synthetic_ae" / "hospital_ae_data.csv"
    args = ("mappings", "draft", str(path), "--org", "RAJ", "--dataset", "ed_attendance")
    result = invoke(*args, "--json")
    draft = json.loads(result.stdout)["draft"]
    fields = {f["name"]: f for f in draft["fields"]}
    assert (
        fields["arrival_at"]["column"] == "Arrival Time" and fields["arrival_at"]["format"] is None
    )
    assert fields["age_years"]["column"] == "Age"
    assert fields["sex"]["column"] == "Gender"
    assert fields["sex"]["translations"] == {"Female": "2", "Male": "1", "Not Known": "X"}
    assert [u["value"] for u in fields["sex"]["unmapped"]] == ["Not Specified"]
    nhs = fields["nhs_number"]
    assert (nhs["column"], nhs["confidence"]) == ("Health Service ID", "low")
    assert any("pass Modulus 11" in n for n in nhs["notes"])
    missing = {p.split(" ")[0] for p in draft["problems"]}
    assert missing == {"attendance_id", "department_type", "departed_at"}
    assert "Postcode" in draft["unused_columns"]
    text = invoke(*args).output
    rows = path.read_text(encoding="utf-8").splitlines()[1:50]
    for row in rows:  # no identifier and no postcode of the file is shown
        identifier, *_, postcode = row.split(",")
        assert identifier not in text and postcode not in text


@pytest.mark.parametrize("month", ["April-2025", "December-2024"])
def test_a_published_aggregate_return_is_not_mistaken_for_patient_rows(
    workspace: Path, shared_data: Path, month: str
) -> None:
    """NHS England's monthly A&E return, as published: counts by provider, whose headers share
    words with the ED fields ("A&E attendances Type 1", "Emergency admissions via A&E")."""
    path = shared_data / "nhse_ae_monthly_2024_25" / f"Monthly-AE-{month}.csv"
    args = ("mappings", "draft", str(path), "--org", "RAJ", "--dataset", "ed_attendance")
    draft = json.loads(invoke(*args, "--json").stdout)["draft"]
    assert [f["name"] for f in draft["fields"] if f["column"]] == []
    missing = {p.split(" ")[0] for p in draft["problems"]}
    assert missing == {"attendance_id", "site_code", "department_type", "arrival_at", "departed_at"}
    assert "A&E attendances Type 1" in draft["unused_columns"] and draft["sample_rows"] > 150
