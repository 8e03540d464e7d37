"""Read the header and the first rows of a partner's file, in any format a submission may take,
to draft a feed mapping from it. No feed mapping is needed: a workbook's sheet and header row are
found from its first rows when not given.

The same readers as a submission, with the same whole-file checks (a UTF-16, empty or headerless
file is refused the same way), but reading stops after ``limit`` rows, so memory stays bounded
however large the file is. Values are text, exactly as the one-pass standardisation sees them.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from openpyxl import Workbook

from carehub.acquire.columnar_files import jsonl_table, parquet_table
from carehub.acquire.csv_files import readable_csv
from carehub.acquire.files import FileKind, file_kind
from carehub.acquire.xlsx_files import open_workbook, sheet_table
from carehub.errors import UserError

DEFAULT_SAMPLE_ROWS = 10_000  # enough to meet a month's rarer codes, few enough for memory
HEADER_SEARCH_ROWS = 30  # a workbook's title and notes rows above its header, at most


@dataclass(frozen=True)
class Sample:
    """The header and first rows of a file, as text."""

    file: str  # the file's name (not its folder)
    kind: FileKind
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = field(repr=False)
    more_rows: bool  # the file has rows beyond the sample
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only
    sheet: str | None = None  # workbooks only
    header_row: int = 1
    sheets: tuple[str, ...] = ()  # workbooks: every sheet, in order
    ragged_rows: int = 0  # CSV rows with more or fewer fields than the header


def _fit(row: list[str], width: int) -> tuple[str, ...]:
    return tuple(row[:width]) + ("",) * (width - len(row))


def _take(rows: Iterator[list[str]], width: int, limit: int) -> tuple[list[tuple[str, ...]], bool]:
    taken = [_fit(row, width) for row in islice(rows, limit)]
    more = next(rows, None) is not None
    close = getattr(rows, "close", None)
    if close is not None:  # stop reading now: release the file
        close()
    return taken, more


def _csv_sample(path: Path, scratch: Path, limit: int) -> Sample:
    with (
        readable_csv(path, scratch) as text,
        text.path.open(encoding="utf-8-sig", newline="") as handle,
    ):
        reader = csv.reader(handle, delimiter=text.delimiter)
        next(reader, None)  # the header, already read by the whole-file checks
        raw = list(islice(reader, limit))
        more = next(reader, None) is not None
    width = len(text.columns)
    return Sample(
        path.name,
        FileKind.CSV,
        text.columns,
        tuple(_fit(r, width) for r in raw),
        more,
        encoding=text.encoding,
        delimiter=text.delimiter,
        ragged_rows=sum(len(r) != width for r in raw),
    )


def _text_cells(row: tuple[object, ...]) -> int:
    """How many cells of a row hold text: a header row is all text, data rows mix in numbers and
    dates."""
    return sum(isinstance(v, str) and bool(v.strip()) for v in row)


def _find_header(workbook: Workbook, sheet: str | None, header_row: int | None) -> tuple[str, int]:
    """The sheet (the given one, else the one with the widest header) and the header row (the
    given one, else the first of the first rows with the most text cells)."""
    names = [sheet] if sheet else workbook.sheetnames
    best: tuple[int, str, int] | None = None
    for name in names:
        if name not in workbook.sheetnames:
            return name, header_row or 1  # sheet_table refuses it, naming the sheets there are
        top = workbook[name].iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)
        widths = [_text_cells(row) for row in top]
        if header_row is not None:
            row, width = header_row, widths[header_row - 1] if header_row <= len(widths) else 0
        else:
            width = max(widths, default=0)
            row = widths.index(width) + 1 if widths else 1
        if best is None or width > best[0]:
            best = (width, name, row)
    assert best is not None  # a workbook has at least one sheet
    return best[1], best[2]


def _xlsx_sample(path: Path, sheet: str | None, header_row: int | None, limit: int) -> Sample:
    with open_workbook(path) as workbook:
        chosen, row = _find_header(workbook, sheet, header_row)
        name, header, rows = sheet_table(path, workbook, chosen, row)
        taken, more = _take(rows, len(header), limit)
        sheets = tuple(workbook.sheetnames)
    return Sample(
        path.name,
        FileKind.XLSX,
        header,
        tuple(taken),
        more,
        sheet=name,
        header_row=row,
        sheets=sheets,
    )


def read_sample(
    path: Path,
    scratch: Path,
    *,
    sheet: str | None = None,
    header_row: int | None = None,
    limit: int = DEFAULT_SAMPLE_ROWS,
) -> Sample:
    """The columns and first ``limit`` rows of a CSV, Excel, Parquet or JSON lines file.

    ``sheet`` and ``header_row`` apply to workbooks; when not given they are found from the
    first rows. Bad files are refused as a submission would be (DataContractError)."""
    kind = file_kind(path)
    if kind is FileKind.XLSX:
        return _xlsx_sample(path, sheet, header_row, limit)
    if sheet is not None or header_row not in (None, 1):
        raise UserError(
            f"{path.name}: a sheet and a header row apply only to Excel workbooks; this is {kind}",
            hint="leave out --sheet and --header-row (the header is the first line)",
        )
    if kind is FileKind.CSV:
        return _csv_sample(path, scratch, limit)
    header, rows = parquet_table(path) if kind is FileKind.PARQUET else jsonl_table(path)
    taken, more = _take(rows, len(header), limit)
    return Sample(path.name, kind, header, tuple(taken), more)
