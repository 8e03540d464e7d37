"""Open a submitted file by what it is (its bytes, not its name): CSV, an Excel workbook,
Parquet or JSON lines."""

from __future__ import annotations

from contextlib import AbstractContextManager
from enum import StrEnum
from pathlib import Path

from carehub.acquire.columnar_files import open_jsonl, open_parquet
from carehub.acquire.csv_files import CsvProfile, open_csv, refuse
from carehub.acquire.xlsx_files import open_xlsx
from carehub.model.mappings import FeedMapping

ZIP_SIGNATURE = b"PK\x03\x04"  # xlsx files are zip archives
PARQUET_SIGNATURE = b"PAR1"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")  # a file so named must have one of the signatures


class FileKind(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"
    JSONL = "jsonl"


def file_kind(path: Path) -> FileKind:
    """What a file is, from its first bytes (JSON lines also from its name); CSV otherwise, so
    that a missing file is refused by the CSV checks. An old .xls workbook is refused."""
    if path.is_file():
        with path.open("rb") as handle:
            start = handle.read(4)
        if start == ZIP_SIGNATURE:
            return FileKind.XLSX
        if start == PARQUET_SIGNATURE:
            return FileKind.PARQUET
        if start[:1] == b"{" or path.suffix.lower() in (".jsonl", ".ndjson"):
            return FileKind.JSONL
        if start == OLE_SIGNATURE:
            raise refuse(
                path,
                "this is an old-style .xls workbook",
                "save it as .xlsx or CSV and send it again",
            )
        if path.suffix.lower() in EXCEL_SUFFIXES:
            raise refuse(
                path,
                f"the file is named {path.suffix} but is not an Excel workbook",
                "open it in Excel and save it as .xlsx, or send CSV",
            )
    return FileKind.CSV


def open_submission(
    path: Path, mapping: FeedMapping, scratch: Path
) -> AbstractContextManager[CsvProfile]:
    kind = file_kind(path)
    if kind is FileKind.XLSX:
        return open_xlsx(path, mapping, scratch)
    if kind is FileKind.PARQUET:
        return open_parquet(path, mapping, scratch)
    if kind is FileKind.JSONL:
        return open_jsonl(path, mapping, scratch)
    return open_csv(path, mapping, scratch)
