"""Reading the header and first rows of a file in every format, without a feed mapping."""

from __future__ import annotations

import json
import tracemalloc
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from carehub.acquire.files import FileKind
from carehub.acquire.sampling import read_sample
from carehub.errors import DataContractError, UserError

HEADER = ["AttendanceRef", "NHS No", "Arrival"]
ROWS = [[f"A{i}", "943 476 5919", f"0{i % 9 + 1}/04/2025 10:00"] for i in range(25)]


def _csv(path: Path, rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> Path:
    lines = [delimiter.join(HEADER), *(delimiter.join(r) for r in rows)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


def test_a_csv_gives_its_columns_and_first_rows(tmp_path: Path, scratch: Path) -> None:
    path = _csv(tmp_path / "ed.csv", ROWS, delimiter=";", encoding="utf-8-sig")
    sample = read_sample(path, scratch, limit=10)
    assert sample.kind is FileKind.CSV and sample.file == "ed.csv"
    assert (sample.columns, sample.delimiter, sample.encoding) == (
        tuple(HEADER),
        ";",
        "utf-8-sig",
    )
    assert sample.rows == tuple(tuple(r) for r in ROWS[:10]) and sample.more_rows
    whole = read_sample(path, scratch, limit=25)
    assert len(whole.rows) == 25 and not whole.more_rows


def test_windows_1252_is_read_and_its_copy_removed(tmp_path: Path, scratch: Path) -> None:
    path = _csv(tmp_path / "ed.csv", [["Ré1", "", "01/04/2025 10:00"]], encoding="cp1252")
    sample = read_sample(path, scratch)
    assert sample.encoding == "windows-1252" and sample.rows == (("Ré1", "", "01/04/2025 10:00"),)
    assert list(scratch.iterdir()) == []


def test_ragged_rows_are_counted_and_fitted_to_the_header(tmp_path: Path, scratch: Path) -> None:
    path = _csv(tmp_path / "ed.csv", [["A1", "x"], ["A2", "x", "y", "z"], ["A3", "x", "y"]])
    sample = read_sample(path, scratch)
    assert sample.ragged_rows == 2
    assert sample.rows == (("A1", "x", ""), ("A2", "x", "y"), ("A3", "x", "y"))


def test_bad_files_are_refused_as_a_submission_would_be(tmp_path: Path, scratch: Path) -> None:
    utf16 = tmp_path / "u.csv"
    utf16.write_bytes(",".join(HEADER).encode("utf-16"))
    with pytest.raises(DataContractError, match="UTF-16"):
        read_sample(utf16, scratch)
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataContractError, match="empty"):
        read_sample(empty, scratch)
    with pytest.raises(DataContractError, match="no such file"):
        read_sample(tmp_path / "missing.csv", scratch)


def test_a_sheet_or_header_row_for_a_csv_is_a_user_error(tmp_path: Path, scratch: Path) -> None:
    path = _csv(tmp_path / "ed.csv", ROWS)
    with pytest.raises(UserError, match="only to Excel workbooks"):
        read_sample(path, scratch, header_row=3)


def _workbook(path: Path) -> Path:
    book = Workbook(write_only=True)
    book.create_sheet("Notes").append(["Monthly return. Times are local time."])
    sheet = book.create_sheet("Attendances")
    sheet.append(["Essex Urgent Care: attendances"])
    sheet.append(["Month: April 2025"])
    sheet.append([])
    sheet.append(HEADER)
    for i in range(12):
        sheet.append([f"A{i}", 9434765919, datetime(2025, 4, 1 + i, 10, 0)])
    book.save(path)
    return path


def test_a_workbook_sheet_and_header_row_are_found(tmp_path: Path, scratch: Path) -> None:
    sample = read_sample(_workbook(tmp_path / "utc.xlsx"), scratch, limit=5)
    assert (sample.kind, sample.sheet, sample.header_row) == (FileKind.XLSX, "Attendances", 4)
    assert sample.sheets == ("Notes", "Attendances") and sample.columns == tuple(HEADER)
    assert sample.rows[0] == ("A0", "9434765919", "2025-04-01 10:00:00") and sample.more_rows


def test_a_given_sheet_and_header_row_are_used(tmp_path: Path, scratch: Path) -> None:
    path = _workbook(tmp_path / "utc.xlsx")
    sample = read_sample(path, scratch, sheet="Attendances", header_row=2)
    assert sample.columns == ("Month: April 2025",) and sample.header_row == 2
    with pytest.raises(DataContractError, match="no sheet 'Data'"):
        read_sample(path, scratch, sheet="Data")


def test_parquet_and_json_lines_give_text(tmp_path: Path, scratch: Path) -> None:
    records = [{"ref": f"A{i}", "age": i, "at": datetime(2025, 4, 1, i)} for i in range(5)]
    parquet = tmp_path / "ed.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    sample = read_sample(parquet, scratch, limit=3)
    assert sample.kind is FileKind.PARQUET and sample.columns == ("ref", "age", "at")
    assert sample.rows[1] == ("A1", "1", "2025-04-01 01:00:00") and sample.more_rows
    lines = tmp_path / "ed.jsonl"
    lines.write_text("\n".join(json.dumps({"ref": f"A{i}", "age": i}) for i in range(5)) + "\n")
    sample = read_sample(lines, scratch, limit=5)
    assert sample.kind is FileKind.JSONL and sample.rows[4] == ("A4", "4")
    assert not sample.more_rows


def _peak_bytes(path: Path, scratch: Path) -> int:
    tracemalloc.start()
    try:
        sample = read_sample(path, scratch, limit=100)
        assert len(sample.rows) == 100 and sample.more_rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


LARGE_ROWS = 400_000


def test_a_large_file_is_not_read_into_memory(tmp_path: Path, scratch: Path) -> None:
    row = "A{0},9434765919,01/04/2025 10:00,some text to make the file bigger\n"
    csv_path = tmp_path / "big.csv"
    with csv_path.open("w", encoding="utf-8") as handle:
        handle.write("AttendanceRef,NHS No,Arrival,Notes\n")
        handle.writelines(row.format(i) for i in range(LARGE_ROWS))
    lines = tmp_path / "big.jsonl"
    with lines.open("w", encoding="utf-8") as handle:
        handle.writelines(f'{{"ref": "A{i}", "text": "{"x" * 40}"}}\n' for i in range(LARGE_ROWS))
    for path in (csv_path, lines):
        size = path.stat().st_size
        assert size > 20_000_000
        assert _peak_bytes(path, scratch) < size / 5, path.name
