"""The CLI through Typer's runner on a real workspace: the slice, and bad input that changes
nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text
from typer.testing import CliRunner
from workspaces import snapshot

from carehub.cli.main import app

HEADER = (
    "attendance_id,nhs_number,site_code,department_type,arrival_at,"
    "initial_assessment_at,departed_at,acuity,age_years,sex"
)
GOOD_ROWS = [
    "A1,943 476 5919,RAJ01,01,2025-01-03 10:00:00,2025-01-03 10:10:00,2025-01-03 13:00:00,3,45,1",
    "A2,9434765918,RAJ01,01,2025-01-03 11:00:00,,2025-01-03 16:00:00,2,30,2",
    "A3,9990000018,RAJ01,01,2025-01-04 11:00:00,,2025-01-04 15:00:00,2,30,2",
    "A4,9990000026,RAJ02,01,2025-01-05 09:00:00,,2025-01-05 09:40:00,4,7,X",
]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("CAREHUB_HOME", str(home))
    monkeypatch.delenv("CAREHUB_DATABASE_URL", raising=False)
    run("init")
    run("orgs", "add", "RAJ", "Mid and South Essex NHS Foundation Trust", "--kind", "trust")
    return home


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, f"exit {result.exit_code}: {result.output}"
    return result.output


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def published(home: Path) -> tuple[dict[str, str], dict[str, list[tuple[object, ...]]]]:
    return snapshot(home, published_only=True)


def assert_kept_and_rejected(home: Path, path: Path, expected: str) -> None:
    """The refused file's bytes are in the raw zone and its submission says why, in words."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (home / "lake" / "raw" / digest[:2] / digest).read_bytes() == path.read_bytes()
    engine = create_engine(f"sqlite:///{home / 'carehub.db'}")
    with engine.connect() as connection:
        state, error, hint = connection.execute(
            text("SELECT state, error, hint FROM submissions WHERE sha256 = :d"), {"d": digest}
        ).one()
    engine.dispose()
    assert state == "rejected" and expected in error and hint


KPI_AGREEMENT = {
    "id": "ISA-KPI-001",
    "title": "KPI computation by the hub",
    "purpose": "kpi_computation",
    "purpose_description": "The hub computes the shared KPIs from pseudonymised rows.",
    "legal_basis": "UK GDPR Article 6(1)(e) and Article 9(2)(h)",
    "providers": ["RAJ"],
    "recipients": ["HUB"],
    "datasets": [{"dataset": "ed_attendance"}],
    "level": "pseudonymised",
    "data_quality": "Monthly, mapped to the common data model.",
    "security": "Encrypted at rest and in transit.",
    "retention": "Eight years, then destroyed.",
    "individuals_rights": "Privacy notices describe the sharing.",
    "sanctions": "Breaches suspend access.",
    "starts_on": "2024-04-01",
    "review_on": "2027-03-31",
    "ends_on": "2030-03-31",
}


def adopt_kpi_agreement(folder: Path) -> None:
    """Put the hub's KPI agreement in force through the CLI, as a steward would."""
    agreement = write(folder, "kpi.yaml", yaml.safe_dump(KPI_AGREEMENT))
    run("agreements", "add", str(agreement))
    run("agreements", "send", "ISA-KPI-001")
    for org in ("RAJ", "HUB"):
        run("agreements", "sign", "ISA-KPI-001", "--org", org, "--signatory", "Caldicott Guardian")


def test_the_slice_from_file_to_kpi(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "ed.csv", "\n".join([HEADER, *GOOD_ROWS]) + "\n")
    receipt = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--json")
    )
    assert receipt["period"] == "2025-01"  # worked out from the rows
    assert (receipt["rows_published"], receipt["rows_quarantined"]) == (3, 1)
    assert receipt["reasons"] == {"NHS_NUMBER_INVALID:nhs_number": 1}
    # The file has no column for the four optional fields added later: accepted, with warnings.
    assert (
        len(receipt["warnings"]) == 4
        and "'arrival_mode' (field arrival_mode)" in receipt["warnings"][0]
    )
    assert (
        workspace / "lake" / "raw" / receipt["sha256"][:2] / receipt["sha256"]
    ).read_bytes() == path.read_bytes()
    again = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--json")
    )
    assert again["duplicate"] is True
    # Without an agreement the hub itself may not read the rows to compute the KPIs.
    assert "no agreement shares ed_attendance with HUB" in run("metrics", "run", code=7)
    adopt_kpi_agreement(tmp_path)
    shown = json.loads(run("agreements", "show", "ISA-KPI-001", "--json"))
    assert shown["state"] == "active" and shown["in_force"] and shown["awaiting"] == []
    summary = json.loads(run("metrics", "run", "--json"))
    assert summary[0]["metric_id"] == "ed_four_hours" and summary[0]["facets"] == 2
    verify = json.loads(run("audit", "verify", "--json"))
    assert verify["events"] >= 5


def test_no_nhs_number_reaches_the_standard_zone(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "ed.csv", "\n".join([HEADER, *GOOD_ROWS]) + "\n")
    run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path))
    for parquet in (workspace / "lake").rglob("*.parquet"):
        blob = parquet.read_bytes()
        for number in (b"9434765919", b"9990000018", b"9990000026", b"943 476 5919"):
            assert number not in blob, parquet


BAD_INPUTS = {
    "missing file": (None, "no such file"),
    "empty file": ("", "the file is empty"),
    "header only": (HEADER + "\n", "has a header but no data rows"),
    "another dataset": (
        "call_id,disposition,call_start\n1,Dx01,2025-01-01 10:00\n",
        "does not look like a ed_attendance file",
    ),
    "missing column": (
        HEADER.replace(",departed_at", "")
        + "\n"
        + "A1,9990000018,RAJ01,01,2025-01-03 10:00:00,,3,45,1\n",
        "no column 'departed_at'",
    ),
    "all rows bad": (
        HEADER + "\nA1,9990000019,RAJ01,01,2025-01-03 10:00:00,,2025-01-03 11:00:00,3,45,1\n",
        "none of the 1 rows passed",
    ),
    "unreadable dates": (
        HEADER + "\nA1,9990000018,RAJ01,01,03/01/2025 10:00,,03/01/2025 11:00,3,45,1\n",
        "no row has a readable 'arrival_at'",
    ),
    "two months": (
        "\n".join(
            [HEADER, GOOD_ROWS[0], GOOD_ROWS[0].replace("A1", "B1").replace("2025-01", "2025-02")]
        )
        + "\n",
        "rows span 2 months",
    ),
    "utf-16": (HEADER + "\n" + GOOD_ROWS[0] + "\n", "encoded as UTF-16"),
    "repeated column": (
        HEADER + ",site_code\n" + GOOD_ROWS[0] + ",RAJ02\n",
        "line 1 repeats column(s) 'site_code'",
    ),
    "ragged csv": (
        HEADER + "\nA1,9990000018,RAJ01,01,2025-01-03 10:00:00\n",
        "line 2 has 5 fields where the header has 10",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_clearly_and_changes_nothing(
    case: str, workspace: Path, tmp_path: Path
) -> None:
    content, expected = BAD_INPUTS[case]
    encoding = "utf-16" if case == "utf-16" else "utf-8"
    path = (
        tmp_path / "bad.csv" if content is None else write(tmp_path, "bad.csv", content, encoding)
    )
    before = published(workspace)
    output = run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), code=5)
    assert expected in output and "bad.csv" in output and "hint:" in output
    assert "9990000018" not in output  # never a row value in an error
    assert published(workspace) == before
    if content is not None:
        assert_kept_and_rejected(workspace, path, expected)


def test_windows_1252_and_semicolons_are_read(workspace: Path, tmp_path: Path) -> None:
    rows = [r.replace(",", ";") for r in GOOD_ROWS]
    text = "\n".join([HEADER.replace(",", ";"), *rows]).replace("A1;", "Ä1é;") + "\n"
    path = write(tmp_path, "ed-1252.csv", text, encoding="cp1252")
    receipt = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--json")
    )
    assert receipt["rows_read"] == 4 and receipt["rows_published"] == 3


def test_utf8_with_bom_is_read(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "ed-bom.csv", "\ufeff" + "\n".join([HEADER, *GOOD_ROWS]) + "\n")
    receipt = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--json")
    )
    assert receipt["rows_published"] == 3


def test_columns_without_a_name_are_ignored_with_a_warning(workspace: Path, tmp_path: Path) -> None:
    # Spreadsheet exports leave empty cells beyond the last column: nameless, so never mapped.
    rows = [row + ",," for row in GOOD_ROWS]
    path = write(tmp_path, "ed-trailing.csv", "\n".join([HEADER + ",,", *rows]) + "\n")
    output = run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path))
    assert "warning: 2 column(s) of line 1 have no name and are ignored" in output
    receipt = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--json")
    )
    assert receipt["rows_published"] == 3 and receipt["duplicate"]


def test_unknown_organisation_and_dataset_are_named(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "ed.csv", "\n".join([HEADER, *GOOD_ROWS]) + "\n")
    assert "no organisation 'XYZ'" in run(
        "submit", "--org", "XYZ", "--dataset", "ed_attendance", str(path), code=4
    )
    assert "known datasets: admitted_spell" in run(
        "submit", "--org", "RAJ", "--dataset", "nope", str(path), code=4
    )


def test_a_wrong_database_url_is_a_configuration_error(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREHUB_DATABASE_URL", "postgresql+psycopg://nobody:pw@127.0.0.1:1/none")
    output = run("audit", "verify", code=3)
    assert "cannot connect to the metadata database" in output and "Traceback" not in output


def test_an_unreadable_key_file_is_a_configuration_error(workspace: Path) -> None:
    key = workspace / "keys" / "pseudonym.key"
    key.chmod(0o644)
    assert "readable by other users" in run("audit", "verify", code=3)
    key.chmod(0o600)
    key.write_text("not hex\n")
    assert "does not hold a 32-byte hex key" in run("audit", "verify", code=3)
    key.unlink()
    assert "does not exist" in run("audit", "verify", code=3)


def test_submitters_submit_only_for_their_own_organisation(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("orgs", "add", "RDD", "Another Trust", "--kind", "trust")
    monkeypatch.setenv("CAREHUB_NEW_PASSWORD", "a-long-enough-password")
    run("users", "add", "rdd.sub", "--org", "RDD", "--role", "submitter")
    path = write(tmp_path, "ed.csv", "\n".join([HEADER, *GOOD_ROWS]) + "\n")
    output = run(
        "submit",
        "--org",
        "RAJ",
        "--dataset",
        "ed_attendance",
        str(path),
        "--user",
        "rdd.sub",
        code=7,
    )
    assert "submits for RDD, not RAJ" in output


def test_metrics_run_before_any_data_says_what_to_do(workspace: Path, tmp_path: Path) -> None:
    adopt_kpi_agreement(tmp_path)
    assert "carehub submit" in run("metrics", "run", code=2)


def _workbook(
    path: Path, sheet: str = "Data", header: list[str] | None = None, blank_rows: int = 0
) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = sheet
    for _ in range(blank_rows):
        first.append([])
    first.append(header if header is not None else HEADER.split(","))
    first.append(GOOD_ROWS[0].split(","))
    book.save(path)
    return path


def _zip_bomb(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (50 * 1024 * 1024))  # 50 MB of zeros
    return path


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_WORKBOOKS = {
    "no such sheet": (lambda p: _workbook(p, sheet="Sheet9"), "no sheet 'Data' (it has 'Sheet9')"),
    "empty header row": (lambda p: _workbook(p, blank_rows=1), "row 1 of sheet 'Data' is empty"),
    "zip bomb": (_zip_bomb, "far more data than it holds"),
    "old xls": (lambda p: _bytes(p, b"\xd0\xcf\x11\xe0" + b"\0" * 600), "old-style .xls"),
    "broken zip": (
        lambda p: _bytes(p, b"PK\x03\x04 not really a zip"),
        "cannot be read as an Excel workbook",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_WORKBOOKS))
def test_bad_workbooks_are_refused_and_change_nothing(
    case: str, workspace: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.yaml"
    fields = "\n".join(f"  {c}: {c}" for c in HEADER.split(","))
    mapping.write_text(
        f"organisation: RAJ\ndataset: ed_attendance\nversion: 2\nsheet: Data\nfields:\n{fields}\n"
    )
    run("mappings", "add", str(mapping))
    make, expected = BAD_WORKBOOKS[case]
    path = make(tmp_path / "bad.xlsx")
    before = published(workspace)
    output = run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), code=5)
    assert expected in output and "bad.xlsx" in output
    assert published(workspace) == before
    assert_kept_and_rejected(workspace, path, expected)


def test_a_workbook_is_read_from_its_header_row(workspace: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    fields = "\n".join(f"  {c}: {c}" for c in HEADER.split(",") if c != "department_type")
    mapping.write_text(
        "organisation: RAJ\ndataset: ed_attendance\nversion: 2\nsheet: Data\nheader_row: 3\n"
        f"fields:\n{fields}\n  department_type:\n    value: '01'\n"
    )
    run("mappings", "add", str(mapping))
    header = [c for c in HEADER.split(",") if c != "department_type"]
    path = _workbook(tmp_path / "ed.xlsx", header=header, blank_rows=2)
    # the row under the header still has the department type: drop it to match the header
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book["Data"]
    sheet.delete_rows(4)
    values = GOOD_ROWS[0].split(",")
    sheet.append(values[:3] + values[4:])
    book.save(path)
    receipt = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--json")
    )
    assert (receipt["rows_read"], receipt["rows_published"]) == (1, 1)


def _records() -> list[dict[str, str]]:
    return [dict(zip(HEADER.split(","), row.split(","), strict=True)) for row in GOOD_ROWS]


def test_parquet_and_json_lines_are_read(workspace: Path, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    records = _records()
    parquet = tmp_path / "ed.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    receipt = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(parquet), "--json")
    )
    assert (receipt["rows_read"], receipt["rows_published"]) == (4, 3)
    lines = tmp_path / "ed.jsonl"
    lines.write_text(
        "\n".join(json.dumps({**r, "attendance_id": r["attendance_id"] + "J"}) for r in records)
        + "\n"
    )
    receipt = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(lines), "--json")
    )
    assert (receipt["rows_read"], receipt["rows_published"], receipt["superseded"]) == (4, 3, 1)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"attendance_id": "A1"\n', "line 1 is not valid JSON"),
        ("[1, 2]\n", "is not a JSON object"),
        ('{"x": "9990000018"}\n', "does not look like a ed_attendance file"),
        ("PAR1 this is not parquet", "cannot be read as Parquet"),
    ],
)
def test_bad_json_lines_and_parquet_are_refused(
    content: str, expected: str, workspace: Path, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.jsonl", content)
    before = published(workspace)
    output = run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), code=5)
    assert expected in output and "9990000018" not in output
    assert published(workspace) == before
    assert_kept_and_rejected(workspace, path, expected)


def test_a_queued_submission_is_run_by_a_worker(workspace: Path, tmp_path: Path) -> None:
    path = write(tmp_path, "ed.csv", "\n".join([HEADER, *GOOD_ROWS]) + "\n")
    queued = json.loads(
        run(
            "submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--no-wait", "--json"
        )
    )
    assert (queued["state"], queued["rows_published"]) == ("received", 0)
    job = json.loads(run("jobs", "show", str(queued["job_id"]), "--json"))
    assert (job["state"], job["submission_id"]) == ("queued", queued["submission_id"])
    assert "after 1 job(s)" in run("worker", "--once")
    done = json.loads(run("jobs", "show", str(queued["job_id"]), "--json"))
    assert (done["state"], done["progress"], done["attempts"]) == ("done", 1.0, 1)
    receipt = json.loads(run("submissions", "show", str(queued["submission_id"]), "--json"))
    assert (receipt["state"], receipt["period"], receipt["rows_published"]) == (
        "published",
        "2025-01",
        3,
    )
    assert receipt["reasons"] == {"NHS_NUMBER_INVALID:nhs_number": 1}
    listed = run("jobs", "list")
    assert f"{queued['job_id']}\tsubmission\tdone\t100%" in listed


def test_a_rejected_file_can_be_sent_again_after_the_mapping_is_fixed(
    workspace: Path, tmp_path: Path
) -> None:
    rows = [r.replace("2025-01-03 10:00:00", "03/01/2025 10:00") for r in GOOD_ROWS[:1]]
    text_ = HEADER + "\n" + "\n".join(rows) + "\n"
    path = write(tmp_path, "ed.csv", text_.replace(",,", ",2025-01-03 10:05:00,"))
    output = run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), code=5)
    assert "no row has a readable 'arrival_at'" in output
    mapping = tmp_path / "mapping.yaml"
    fields = "\n".join(f"  {c}: {c}" for c in HEADER.split(",") if c != "arrival_at")
    mapping.write_text(
        "organisation: RAJ\ndataset: ed_attendance\nversion: 2\nfields:\n"
        f"{fields}\n  arrival_at: {{column: arrival_at, format: '%d/%m/%Y %H:%M'}}\n"
    )
    run("mappings", "add", str(mapping))
    again = json.loads(
        run("submit", "--org", "RAJ", "--dataset", "ed_attendance", str(path), "--json")
    )
    assert not again["duplicate"] and again["state"] == "published"
    listed = json.loads(run("submissions", "list", "--json"))
    assert [(s["id"], s["state"]) for s in listed] == [(again["submission_id"], "published")]


def test_audit_verify_fails_after_an_event_is_edited_behind_its_back(workspace: Path) -> None:
    assert "audit log intact" in run("audit", "verify")
    engine = create_engine(f"sqlite:///{workspace / 'carehub.db'}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor = 'someone-else' WHERE seq = 1"))
    engine.dispose()
    assert "audit event 1" in run("audit", "verify", code=9)
