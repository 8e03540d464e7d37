"""A submission is opened by what its bytes are; a workbook's name must match its bytes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from carehub.acquire.files import open_submission
from carehub.errors import DataContractError
from carehub.model.mappings import FeedMapping

MAPPING = FeedMapping.identity("RAJ", "ed_attendance")


def refusal(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataContractError) as caught, open_submission(path, MAPPING, tmp_path):
        pass
    return caught.value.message


@pytest.mark.parametrize("name", ["ed.xlsx", "ed.XLS", "ed.xlsm"])
def test_a_file_named_as_a_workbook_must_be_one(tmp_path: Path, name: str) -> None:
    html = b"<html><table><tr><td>attendance_id</td></tr></table></html>"
    suffix = name.rsplit(".", 1)[1]
    assert refusal(tmp_path, name, html) == (
        f"{name}: the file is named .{suffix} but is not an Excel workbook"
    )


def workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_an_empty_sheet_is_called_empty(tmp_path: Path) -> None:
    data = workbook(("Sheet1", []), ("Sheet2", [["attendance_id"], ["A1"]]))
    assert refusal(tmp_path, "ed.xlsx", data) == "ed.xlsx: sheet 'Sheet1' is empty"


def test_a_sheet_with_rows_but_no_header_row_says_so(tmp_path: Path) -> None:
    data = workbook(("Sheet1", [[], ["attendance_id"], ["A1"]]))
    assert refusal(tmp_path, "ed.xlsx", data).startswith(
        "ed.xlsx: row 1 of sheet 'Sheet1' is empty"
    )
