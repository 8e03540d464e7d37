"""Excel workbooks (xlsx): the mapping's sheet, read from its header row, streamed to a temporary
UTF-8 CSV so that the one-pass standardisation reads it like any other file.

Date-times become ISO 8601 text, whole numbers lose their ".0", and nothing is evaluated: a
formula cell gives its cached value. A workbook that would unpack to more than
MAX_UNCOMPRESSED_BYTES, or compresses suspiciously well, is refused as a likely zip bomb.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from carehub.acquire.csv_files import CsvProfile, converted_csv, refuse
from carehub.acquire.values import as_text
from carehub.model.mappings import FeedMapping

MAX_UNCOMPRESSED_BYTES = 1 << 30  # 1 GiB: far above any monthly return, far below memory
MAX_COMPRESSION_RATIO = 200  # real workbooks compress 5-20 times; zip bombs thousands of times


def _check_archive(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise refuse(
            path, "the file cannot be read as an Excel workbook", "save it again as .xlsx or CSV"
        ) from exc
    unpacked = sum(e.file_size for e in entries)
    packed = max(sum(e.compress_size for e in entries), 1)
    if unpacked > MAX_UNCOMPRESSED_BYTES or unpacked / packed > MAX_COMPRESSION_RATIO:
        raise refuse(
            path,
            "the workbook would unpack to far more data than it holds (a zip bomb?)",
            "send the data as CSV, or check the file with your IT security team",
        )


@contextmanager
def open_workbook(path: Path) -> Iterator[Workbook]:
    """Check the archive and open the workbook read-only (cached values, nothing evaluated)."""
    _check_archive(path)
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise refuse(
            path, "the file cannot be read as an Excel workbook", "save it again as .xlsx or CSV"
        ) from exc
    try:
        yield workbook
    finally:
        workbook.close()


def sheet_table(
    path: Path, workbook: Workbook, sheet: str | None, header_row: int
) -> tuple[str, tuple[str, ...], Iterator[list[str]]]:
    """The sheet's name, its header (from ``header_row``) and its non-blank rows as text, each
    as long as the header."""
    sheet_name = sheet or workbook.sheetnames[0]
    if sheet_name not in workbook.sheetnames:
        sheets = ", ".join(repr(s) for s in workbook.sheetnames)
        raise refuse(
            path,
            f"the workbook has no sheet {sheet_name!r} (it has {sheets})",
            "check the sheet name in the feed mapping",
        )
    rows = workbook[sheet_name].iter_rows(min_row=header_row, values_only=True)
    header = tuple(as_text(v) for v in next(rows, ()))
    while header and not header[-1]:
        header = header[:-1]
    if not any(header) and not any(any(as_text(v) for v in row) for row in rows):
        raise refuse(
            path,
            f"sheet {sheet_name!r} is empty"
            + (f" from row {header_row} down" if header_row > 1 else ""),
            "put the data on the first sheet, or name its sheet in the feed mapping (sheet:)",
        )
    if not any(header):
        raise refuse(
            path,
            f"row {header_row} of sheet {sheet_name!r} is empty: no header",
            "set header_row in the feed mapping to the row that names the columns",
        )

    def cells() -> Iterator[list[str]]:
        for row in rows:
            values = [as_text(v) for v in row[: len(header)]]
            if any(values):
                yield values + [""] * (len(header) - len(values))

    return sheet_name, header, cells()


@contextmanager
def open_xlsx(path: Path, mapping: FeedMapping, scratch: Path) -> Iterator[CsvProfile]:
    """Check a workbook and yield its sheet as a temporary UTF-8 CSV; the copy is removed."""
    with open_workbook(path) as workbook:
        _, header, rows = sheet_table(path, workbook, mapping.sheet, mapping.header_row)
        with converted_csv(path, header, rows, mapping, scratch, "xlsx") as profile:
            yield profile
