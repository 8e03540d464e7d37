"""Open a submitted file by what it is (its bytes, not its name): CSV, an Excel workbook,
Parquet or JSON lines."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from carehub.acquire.columnar_files import open_jsonl, open_parquet
from carehub.acquire.csv_files import CsvProfile, open_csv, refuse
from carehub.acquire.xlsx_files import open_xlsx
from carehub.model.mappings import FeedMapping

ZIP_SIGNATURE = b"PK\x03\x04"  # xlsx files are zip archives
PARQUET_SIGNATURE = b"PAR1"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0"  # the old binary .xls format
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")  # a file so named must have one of the signatures


def open_submission(
    path: Path, mapping: FeedMapping, scratch: Path
) -> AbstractContextManager[CsvProfile]:
    if path.is_file():
        with path.open("rb") as handle:
            start = handle.read(4)
        if start == ZIP_SIGNATURE:
            return open_xlsx(path, mapping, scratch)
        if start == PARQUET_SIGNATURE:
            return open_parquet(path, mapping, scratch)
        if start[:1] == b"{" or path.suffix.lower() in (".jsonl", ".ndjson"):
            return open_jsonl(path, mapping, scratch)
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
    return open_csv(path, mapping, scratch)
