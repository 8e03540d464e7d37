"""A corpus of broken submission files, built in code, each with the answer carehub must give.

Every file is an `ed_attendance` return from the trust RAJ for January 2025 (columns named as
the model's fields, ISO 8601 timestamps) unless its case says otherwise, with one defect. Every
case that can hold a row plants the sentinels below in its rows, so that a test can check that no
message, hint, receipt, log line or audit detail ever repeats a row value (ARCHITECTURE §4
rule 7). Importable by tests: pytest puts tests/ on sys.path.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from carehub.errors import CarehubError, DataContractError
from carehub.model.datasets import get_dataset
from carehub.model.nhs_number import check_digit

DATASET = "ed_attendance"
ORG = "RAJ"
PERIOD = "2025-01"
FIELDS = tuple(f.name for f in get_dataset(DATASET).fields)
TIMESTAMPS = ("arrival_at", "initial_assessment_at", "departed_at")

SENTINEL_TEXT = "SENTINEL-PATIENT-NAME"  # every attendance_id starts with it
SENTINEL_NHS_NUMBER = "9997654323"  # valid (Modulus 11), planted in the first row of each file
SENTINEL_BAD_NHS_NUMBER = "9997654324"  # fails Modulus 11
SENTINELS = (
    SENTINEL_TEXT,
    SENTINEL_NHS_NUMBER,
    "999 765 4323",
    "999-765-4323",
    SENTINEL_BAD_NHS_NUMBER,
)


def _valid_nhs_number(first_nine: str) -> str:
    digit = check_digit(first_nine)
    assert digit is not None
    return f"{first_nine}{digit}"


OTHER_NHS_NUMBERS = tuple(_valid_nhs_number(f"99900000{n}") for n in (1, 2, 3, 4, 5, 6, 7, 8))


# --- what a case expects ---------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    """The file is refused: this error class, a message naming the file and holding these
    words, and a hint holding ``hint`` (every refusal has a hint)."""

    error: type[CarehubError] = DataContractError
    words: tuple[str, ...] = ()
    hint: tuple[str, ...] = ()


@dataclass(frozen=True)
class Accepted:
    """The file is published; the receipt says this. ``values`` are the sorted published values
    of a column; ``distinct`` the number of distinct non-empty published values of a column."""

    rows_read: int
    rows_published: int
    reasons: Mapping[str, int] = field(default_factory=dict)
    warnings: int = 0
    values: Mapping[str, tuple[object, ...]] = field(default_factory=dict)
    distinct: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BrokenFile:
    name: str
    defect: str
    filename: str
    make: Callable[[], bytes]
    expected: Refused | Accepted
    mapping: str | None = None  # feed mapping YAML installed first (None: the identity mapping)
    period: str | None = PERIOD
    plants_sentinel: bool = True  # False only where the defect leaves no room for a row

    def write(self, folder: Path) -> Path:
        path = folder / self.filename
        path.write_bytes(self.make())
        return path


# --- rows and files --------------------------------------------------------------------------

Row = dict[str, str]


def rows(count: int = 4, month: str = PERIOD) -> list[Row]:
    """Good rows; the first carries the sentinel NHS number."""
    made = []
    for n in range(count):
        day = f"{month}-{n % 28 + 1:02d}"
        made.append(
            {
                "attendance_id": f"{SENTINEL_TEXT}-{n + 1:03d}",
                "nhs_number": SENTINEL_NHS_NUMBER if n == 0 else OTHER_NHS_NUMBERS[n % 8],
                "site_code": "RAJ01",
                "department_type": "01",
                "arrival_mode": "ambulance" if n % 2 else "other",
                "arrival_at": f"{day} 10:00:00",
                "initial_assessment_at": f"{day} 10:15:00",
                "chief_complaint": "chest_pain",
                "decision_to_admit_at": "",
                "departed_at": f"{day} 13:30:00",
                "acuity": "3",
                "age_years": str(20 + n),
                "sex": "1" if n % 2 else "2",
                "discharge_destination": "home",
            }
        )
    return made


def changed(base: list[Row], index: int, **values: str) -> list[Row]:
    return [{**row, **values} if i == index else row for i, row in enumerate(base)]


def csv_text(
    data: Sequence[Row],
    header: Sequence[str] = FIELDS,
    delimiter: str = ",",
    newline: str = "\n",
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows([row.get(c, "") for c in header] for row in data)
    return buffer.getvalue()


def csv_bytes(data: Sequence[Row], **options: str) -> bytes:
    return csv_text(data, **options).encode("utf-8")


def xlsx_bytes(sheets: Mapping[str, Sequence[Sequence[object]]]) -> bytes:
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    for title, table in sheets.items():
        sheet = book.create_sheet(title)
        for line in table:
            sheet.append(list(line))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def table(data: Sequence[Row], header: Sequence[str] = FIELDS) -> list[list[object]]:
    return [list(header), *([row[c] for c in header] for row in data)]


def parquet_bytes(columns: Mapping[str, object]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, compression="NONE")  # sentinels stay visible
    return buffer.getvalue()


def parquet_of(data: Sequence[Row]) -> bytes:
    return parquet_bytes({c: [row[c] for row in data] for c in FIELDS})


def jsonl_bytes(lines: Sequence[object]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")


def _png() -> bytes:
    """A real 1x1 PNG, with a text chunk that carries the sentinel."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\0" + SENTINEL_TEXT.encode())
        + chunk(b"IDAT", zlib.compress(b"\0\0"))
        + chunk(b"IEND", b"")
    )


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        body = csv_bytes(rows(1)) + b" " * (16 * 1024 * 1024)  # 16 MiB of spaces
        archive.writestr("xl/worksheets/sheet1.xml", body)
    return buffer.getvalue()


def _zip_of_csv() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ed.csv", csv_bytes(rows()))
    return buffer.getvalue()


def _old_xls() -> bytes:
    """The OLE2 compound file signature and a little of what follows it."""
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + csv_bytes(rows(1))


def _truncated_parquet() -> bytes:
    whole = parquet_of(rows())
    return whole[: len(whole) // 2]


def _other_dataset_parquet() -> bytes:
    return parquet_bytes(
        {
            "call_id": [f"{SENTINEL_TEXT}-1"],
            "nhs_number": [SENTINEL_NHS_NUMBER],
            "called_at": ["2025-01-03 10:00:00"],
            "disposition": ["Dx01"],
        }
    )


def _typed_parquet() -> bytes:
    data = rows()
    columns: dict[str, object] = {c: [row[c] for row in data] for c in FIELDS}
    for name in TIMESTAMPS:
        columns[name] = pa.array([datetime.fromisoformat(r[name]) for r in data], pa.timestamp("s"))
    columns["decision_to_admit_at"] = pa.array([None] * len(data), pa.timestamp("s"))
    columns["age_years"] = pa.array([float(r["age_years"]) for r in data], pa.float64())
    columns["acuity"] = pa.array([int(r["acuity"]) for r in data], pa.int64())
    return parquet_bytes(columns)


HUGE_FIELD_BYTES = 5 * 1024 * 1024  # one 5 MiB cell: past any line a CSV reader should buffer


def _huge_csv() -> bytes:
    data = changed(rows(), 1, attendance_id=SENTINEL_TEXT + "x" * HUGE_FIELD_BYTES)
    return csv_bytes(data)


def _huge_parquet() -> bytes:
    return parquet_of(changed(rows(), 1, attendance_id=SENTINEL_TEXT + "x" * HUGE_FIELD_BYTES))


EXTRA_COLUMNS = 5_000


def _long_header() -> bytes:
    extra = [f"unused_column_{n:05d}" for n in range(EXTRA_COLUMNS)]
    return csv_bytes(rows(), header=(*FIELDS, *extra))


def _utf16(codec: str, bom: bytes) -> Callable[[], bytes]:
    return lambda: bom + csv_text(rows()).encode(codec)


def _mixed_encodings() -> bytes:
    lines = csv_text(rows()).splitlines(keepends=True)
    lines[1] = lines[1].replace(SENTINEL_TEXT, SENTINEL_TEXT + "-Zoë")  # UTF-8 on line 2
    lines[2] = lines[2].replace(SENTINEL_TEXT, SENTINEL_TEXT + "-Chloé")  # Latin-1 on line 3
    return b"".join(line.encode("latin-1" if n == 2 else "utf-8") for n, line in enumerate(lines))


def _undefined_cp1252() -> bytes:
    text = csv_text(changed(rows(), 0, attendance_id=f"{SENTINEL_TEXT}-\x81"))
    return text.encode("latin-1")  # 0x81 is not UTF-8 and has no Windows-1252 character


def _nul_bytes() -> bytes:
    return csv_bytes(changed(rows(), 1, attendance_id=f"{SENTINEL_TEXT}\0-002"))


def _html_named_xlsx() -> bytes:
    cells = "".join(f"<td>{c}</td>" for c in FIELDS)
    data = "".join(
        "<tr>" + "".join(f"<td>{row[c]}</td>" for c in FIELDS) + "</tr>" for row in rows()
    )
    return f"<html><body><table><tr>{cells}</tr>{data}</table></body></html>\n".encode()


def _three_formats() -> list[Row]:
    """Six rows: two in ISO 8601, two dd/mm/yyyy, two US mm/dd/yyyy (days after the 12th, so
    that no US date can pass as a British one)."""
    made = rows(6)
    formats = ["%Y-%m-%d %H:%M:%S"] * 2 + ["%d/%m/%Y %H:%M"] * 2 + ["%m/%d/%Y %H:%M"] * 2
    for n, (row, fmt) in enumerate(zip(made, formats, strict=True)):
        for name in TIMESTAMPS:
            when = datetime.fromisoformat(row[name]).replace(day=13 + n)
            row[name] = when.strftime(fmt)
    return made


def ids(data: Sequence[Row]) -> tuple[str, ...]:
    """The sorted attendance ids of some rows: what their published file should hold."""
    return tuple(sorted(row["attendance_id"] for row in data))


def _cp1252_rows() -> list[Row]:
    return changed(rows(), 1, attendance_id=f"{SENTINEL_TEXT}-002-é£")


FORMULA = f'=HYPERLINK("http://x.invalid","{SENTINEL_TEXT}")'


def _formula_rows() -> list[Row]:
    """Formula-like text in an identifier (kept as text) and in a code (an unknown code)."""
    data = changed(rows(), 1, attendance_id=FORMULA)
    return changed(
        data, 2, attendance_id=f"+cmd|' /C calc'!{SENTINEL_TEXT}", department_type="@SUM(1+1)"
    )


def _embedded_newlines() -> list[Row]:
    return changed(rows(), 1, attendance_id=f"{SENTINEL_TEXT}-002\nsecond line, with a comma")


def _excel_multiline() -> bytes:
    """Excel's CSV: records end in CRLF, line breaks inside a cell are a bare LF."""
    return csv_bytes(_embedded_newlines(), newline="\r\n")


def _mixed_line_endings() -> bytes:
    text = csv_text(rows(), newline="\r\n")
    lines = text.split("\r\n")
    return ("\r\n".join(lines[:3]) + "\n" + "\n".join(lines[3:])).encode()


def _ragged(extra: bool) -> bytes:
    lines = csv_text(rows()).splitlines(keepends=True)
    if extra:
        lines[2] = lines[2].rstrip("\n") + ",surplus\n"
    else:
        lines[3] = lines[3].rsplit(",", 2)[0] + "\n"
    return "".join(lines).encode()


def _unclosed_quote() -> bytes:
    lines = csv_text(rows()).splitlines(keepends=True)
    lines[2] = lines[2].replace(SENTINEL_TEXT, '"' + SENTINEL_TEXT, 1)
    return "".join(lines).encode()


def _hash_first() -> list[Row]:
    """Numeric attendance references, one written "#10003": DuckDB's sniffer took that line for
    a comment and dropped it (the sentinel moves to the site code)."""
    made = [{**row, "attendance_id": str(10001 + n)} for n, row in enumerate(rows())]
    made[0]["site_code"] = SENTINEL_TEXT
    made[2]["attendance_id"] = "#10003"
    return made


def _padded() -> list[Row]:
    return [
        {
            **row,
            "attendance_id": f"  {row['attendance_id']} ",
            "department_type": " 01 ",
            "acuity": "3 ",
            "sex": f" {row['sex']}",
            "arrival_mode": f"\t{row['arrival_mode']}",
        }
        for row in rows()
    ]


def _local_rows(data: Sequence[Row], british_dates: bool = True) -> list[Row]:
    """Rows in the local layout of LOCAL_MAPPING (British dates, local codes)."""
    local = []
    for row in data:
        item = {LOCAL_COLUMNS[k]: v for k, v in row.items() if k in LOCAL_COLUMNS}
        for name in TIMESTAMPS if british_dates else ():
            when = datetime.fromisoformat(row[name])
            item[LOCAL_COLUMNS[name]] = when.strftime("%d/%m/%Y %H:%M")
        item["Dept"] = {"01": "ED", "03": "UTC"}[row["department_type"]]
        item["Gender"] = {"1": "M", "2": "F"}[row["sex"]]
        local.append(item)
    return local


LOCAL_COLUMNS = {
    "attendance_id": "Attendance Ref",
    "nhs_number": "NHS No",
    "site_code": "Site",
    "department_type": "Dept",
    "arrival_at": "Arrived",
    "initial_assessment_at": "Assessed",
    "departed_at": "Departed",
    "acuity": "Triage",
    "age_years": "Age",
    "sex": "Gender",
}
LOCAL_MAPPING = """\
organisation: RAJ
dataset: ed_attendance
version: 2
description: the trust's own layout, British dates and local codes
fields:
  attendance_id: Attendance Ref
  nhs_number: NHS No
  site_code: Site
  department_type: {column: Dept, values: {ED: "01", UTC: "03"}}
  arrival_at: {column: Arrived, format: "%d/%m/%Y %H:%M"}
  initial_assessment_at: {column: Assessed, format: "%d/%m/%Y %H:%M"}
  departed_at: {column: Departed, format: "%d/%m/%Y %H:%M"}
  acuity: Triage
  age_years: Age
  sex: {column: Gender, values: {M: "1", F: "2"}}
"""
SHEET_MAPPING = (
    "organisation: RAJ\ndataset: ed_attendance\nversion: 2\nsheet: Data\nfields:\n"
    + "".join(f"  {name}: {name}\n" for name in FIELDS)
)


def _local_csv(data: Sequence[Row]) -> bytes:
    return csv_bytes(data, header=tuple(LOCAL_COLUMNS.values()))


# --- the corpus ------------------------------------------------------------------------------


def _cases() -> list[BrokenFile]:  # one entry per case: a long list reads best as one
    ok4 = Accepted(rows_read=4, rows_published=4)
    return [
        # --- encodings
        BrokenFile(
            "windows-1252",
            "Windows-1252 bytes (é, £) from Excel's plain 'CSV' save",
            "ed-1252.csv",
            lambda: csv_text(_cp1252_rows()).encode("cp1252"),
            Accepted(4, 4, values={"attendance_id": ids(_cp1252_rows())}),
        ),
        BrokenFile(
            "utf-16-le-bom",
            "UTF-16 little-endian with a BOM (Excel's 'Unicode text')",
            "ed-utf16le.csv",
            _utf16("utf-16-le", codecs.BOM_UTF16_LE),
            Refused(words=("UTF-16",)),
        ),
        BrokenFile(
            "utf-16-be-bom",
            "UTF-16 big-endian with a BOM",
            "ed-utf16be.csv",
            _utf16("utf-16-be", codecs.BOM_UTF16_BE),
            Refused(words=("UTF-16",)),
        ),
        BrokenFile(
            "utf-16-le-no-bom",
            "UTF-16 little-endian without a BOM: every other byte is NUL",
            "ed-utf16-nobom.csv",
            _utf16("utf-16-le", b""),
            Refused(words=("line 1", "NUL", "UTF-16"), hint=("CSV UTF-8",)),
        ),
        BrokenFile(
            "utf-8-bom",
            "UTF-8 with a byte order mark",
            "ed-bom.csv",
            lambda: codecs.BOM_UTF8 + csv_bytes(rows()),
            ok4,
        ),
        BrokenFile(
            "utf-8-mixed-with-latin-1",
            "UTF-8 on line 2, Latin-1 on line 3: two encodings in one file",
            "ed-mixed-encoding.csv",
            _mixed_encodings,
            Refused(words=("line 3", "UTF-8", "line 2"), hint=("export the whole file",)),
        ),
        BrokenFile(
            "neither-utf-8-nor-windows-1252",
            "byte 0x81, which is neither UTF-8 nor a Windows-1252 character",
            "ed-0x81.csv",
            _undefined_cp1252,
            Refused(words=("line 2", "neither UTF-8 nor Windows-1252"), hint=("CSV UTF-8",)),
        ),
        BrokenFile(
            "nul-bytes",
            "a NUL byte inside a field on line 3",
            "ed-nul.csv",
            _nul_bytes,
            Refused(words=("line 3", "NUL")),
        ),
        BrokenFile(
            "png-named-csv",
            "a PNG image named .csv",
            "ed-picture.csv",
            _png,
            Refused(words=("NUL", "not a text file")),
        ),
        # --- line endings and CSV structure
        BrokenFile(
            "mac-classic-cr",
            "classic Mac OS line endings (CR only)",
            "ed-cr.csv",
            lambda: csv_bytes(rows(), newline="\r"),
            ok4,
        ),
        BrokenFile(
            "excel-multiline-cells",
            "CRLF records with a bare LF inside a quoted cell (how Excel writes line breaks)",
            "ed-excel-multiline.csv",
            _excel_multiline,
            Accepted(4, 4, values={"attendance_id": ids(_embedded_newlines())}),
        ),
        BrokenFile(
            "embedded-newlines",
            "a quoted field holding a newline and a comma",
            "ed-embedded-newline.csv",
            lambda: csv_bytes(_embedded_newlines()),
            Accepted(4, 4, values={"attendance_id": ids(_embedded_newlines())}),
        ),
        BrokenFile(
            "mixed-line-endings",
            "CRLF on the first lines, LF after (two files pasted together)",
            "ed-mixed-endings.csv",
            _mixed_line_endings,
            Refused(words=("do not all end the same way",)),
        ),
        BrokenFile(
            "ragged-too-many-fields",
            "line 3 has one field more than the header",
            "ed-ragged-long.csv",
            lambda: _ragged(extra=True),
            Refused(words=("line 3", "15 fields", "14"), hint=("quote every value",)),
        ),
        BrokenFile(
            "ragged-too-few-fields",
            "line 4 has two fields fewer than the header",
            "ed-ragged-short.csv",
            lambda: _ragged(extra=False),
            Refused(words=("line 4", "12 fields", "14")),
        ),
        BrokenFile(
            "unclosed-quote",
            "a quote opened on line 3 and never closed",
            "ed-unclosed-quote.csv",
            _unclosed_quote,
            Refused(words=("line 3", "quote that is never closed")),
        ),
        BrokenFile(
            "first-field-starts-with-hash",
            "numeric references, one of them '#10003': a row, not a comment",
            "ed-hash.csv",
            lambda: csv_bytes(_hash_first()),
            Accepted(4, 4, values={"attendance_id": ("#10003", "10001", "10002", "10004")}),
        ),
        BrokenFile(
            "trailing-delimiter",
            "every line ends with a delimiter: an unnamed empty last column",
            "ed-trailing-comma.csv",
            lambda: csv_text(rows()).replace("\n", ",\n").encode(),
            Accepted(4, 4, warnings=1),  # "1 column(s) of line 1 have no name and are ignored"
        ),
        BrokenFile(
            "semicolon-delimited",
            "semicolons between fields (a European Excel)",
            "ed-semicolon.csv",
            lambda: csv_bytes(rows(), delimiter=";"),
            ok4,
        ),
        BrokenFile(
            "tab-delimited",
            "tabs between fields",
            "ed-tab.tsv",
            lambda: csv_bytes(rows(), delimiter="\t"),
            ok4,
        ),
        BrokenFile(
            "huge-field",
            "a 5 MiB value in one cell on line 3",
            "ed-huge-cell.csv",
            _huge_csv,
            Refused(words=("line 3", "longer than the 2,000,000 bytes")),
        ),
        BrokenFile(
            "long-header-line",
            f"a header of {len(FIELDS) + EXTRA_COLUMNS} columns, most of them unused",
            "ed-wide.csv",
            _long_header,
            ok4,
        ),
        # --- empty and header problems
        BrokenFile(
            "empty-file",
            "0 bytes",
            "ed-empty.csv",
            lambda: b"",
            Refused(words=("empty", "0 bytes")),
            plants_sentinel=False,
        ),
        BrokenFile(
            "blank-lines-only",
            "nothing but blank lines",
            "ed-blank.csv",
            lambda: b"\r\n  \r\n\r\n",
            Refused(words=("line 1", "no header")),
            plants_sentinel=False,
        ),
        BrokenFile(
            "header-only",
            "a header and no rows",
            "ed-header-only.csv",
            lambda: csv_bytes([]),
            Refused(words=("no data rows",)),
            plants_sentinel=False,
        ),
        BrokenFile(
            "no-header",
            "the first line is a data row: the header is missing",
            "ed-no-header.csv",
            lambda: csv_bytes(rows()).split(b"\n", 1)[1],
            Refused(words=("does not look like a ed_attendance file",)),
        ),
        BrokenFile(
            "duplicate-column",
            "the header names site_code twice",
            "ed-duplicate.csv",
            lambda: csv_bytes(rows(), header=(*FIELDS, "site_code")),
            Refused(words=("line 1", "'site_code'")),
        ),
        BrokenFile(
            "duplicate-column-by-case",
            "the header has arrival_at and ARRIVAL_AT (the engine's names ignore case)",
            "ed-duplicate-case.csv",
            lambda: csv_bytes(rows(), header=(*FIELDS, "ARRIVAL_AT")),
            Refused(words=("line 1", "'ARRIVAL_AT'")),
        ),
        BrokenFile(
            "another-datasets-header",
            "an NHS 111 calls file sent as ED attendances",
            "ed-is-111.csv",
            lambda: (
                f"call_id,nhs_number,called_at,disposition\n{SENTINEL_TEXT}-1,"
                f"{SENTINEL_NHS_NUMBER},2025-01-03 10:00:00,Dx01\n"
            ).encode(),
            Refused(words=("does not look like a ed_attendance file",)),
        ),
        BrokenFile(
            "missing-required-column",
            "no departed_at column",
            "ed-no-departure.csv",
            lambda: csv_bytes(rows(), header=tuple(f for f in FIELDS if f != "departed_at")),
            Refused(words=("line 1", "'departed_at'"), hint=("add the column",)),
        ),
        BrokenFile(
            "missing-optional-column",
            "no chief_complaint column: accepted, the field left empty, with a warning",
            "ed-no-complaint.csv",
            lambda: csv_bytes(rows(), header=tuple(f for f in FIELDS if f != "chief_complaint")),
            Accepted(4, 4, warnings=1),
        ),
        # --- values
        BrokenFile(
            "formula-like-cells",
            "=HYPERLINK(...), +cmd and @SUM in text fields and a code field (kept as text, "
            "never evaluated; the code is unknown)",
            "ed-formulae.csv",
            lambda: csv_bytes(_formula_rows()),
            Accepted(
                4,
                3,
                {"UNKNOWN_CODE:department_type": 1},
                values={"attendance_id": ids(_formula_rows()[:2] + _formula_rows()[3:])},
            ),
        ),
        BrokenFile(
            "three-date-formats-iso-expected",
            "ISO, dd/mm/yyyy and US mm/dd/yyyy dates in one file; the identity mapping reads ISO",
            "ed-three-formats.csv",
            lambda: csv_bytes(_three_formats()),
            Accepted(
                6,
                2,
                {
                    "INVALID_TIMESTAMP:arrival_at": 4,
                    "INVALID_TIMESTAMP:initial_assessment_at": 4,
                    "INVALID_TIMESTAMP:departed_at": 4,
                },
            ),
            period=None,
        ),
        BrokenFile(
            "three-date-formats-british-expected",
            "ISO, dd/mm/yyyy and US mm/dd/yyyy dates; the mapping expects dd/mm/yyyy",
            "ed-three-formats-local.csv",
            lambda: _local_csv(_local_rows(_three_formats(), british_dates=False)),
            Accepted(
                6,
                2,
                {
                    "INVALID_TIMESTAMP:arrival_at": 4,
                    "INVALID_TIMESTAMP:initial_assessment_at": 4,
                    "INVALID_TIMESTAMP:departed_at": 4,
                },
            ),
            mapping=LOCAL_MAPPING,
        ),
        BrokenFile(
            "thousands-separators",
            "ages written 1,000 / 1.000 / 1 000 / 1_000 and a decimal 45.7: none is a whole "
            "number of years",
            "ed-thousands.csv",
            lambda: csv_bytes(
                [
                    {**row, "age_years": age}
                    for row, age in zip(
                        rows(6), ("45", "1,000", "1.000", "1 000", "1_000", "45.7"), strict=True
                    )
                ]
            ),
            Accepted(6, 1, {"NOT_AN_INTEGER:age_years": 5}),
        ),
        BrokenFile(
            "whitespace-padded-codes",
            "codes and identifiers padded with spaces and tabs",
            "ed-padded.csv",
            lambda: csv_bytes(_padded()),
            Accepted(4, 4, values={"attendance_id": ids(rows()), "department_type": ("01",) * 4}),
        ),
        BrokenFile(
            "whitespace-padded-local-codes",
            "local codes padded with spaces, translated by the mapping",
            "ed-padded-local.csv",
            lambda: _local_csv(
                [
                    {**r, "Dept": f" {r['Dept']} ", "Gender": f"{r['Gender']}  "}
                    for r in _local_rows(rows())
                ]
            ),
            Accepted(4, 4, values={"department_type": ("01",) * 4, "sex": ("1", "1", "2", "2")}),
            mapping=LOCAL_MAPPING,
        ),
        BrokenFile(
            "unknown-local-code",
            "a department code the mapping does not translate",
            "ed-unknown-local.csv",
            lambda: _local_csv(
                [{**r, "Dept": "MIU"} if n == 1 else r for n, r in enumerate(_local_rows(rows()))]
            ),
            Accepted(4, 3, {"UNKNOWN_CODE:department_type": 1}),
            mapping=LOCAL_MAPPING,
        ),
        BrokenFile(
            "nhs-number-spaces-and-hyphens",
            "one NHS number written 3-3-4 with spaces, with hyphens, plain, and mixed",
            "ed-nhs-formats.csv",
            lambda: csv_bytes(
                [
                    {**row, "nhs_number": number}
                    for row, number in zip(
                        rows(),
                        ("999 765 4323", "999-765-4323", SENTINEL_NHS_NUMBER, "999 765-4323"),
                        strict=True,
                    )
                ]
            ),
            Accepted(4, 3, {"NHS_NUMBER_INVALID:nhs_number": 1}, distinct={"person_id": 1}),
        ),
        BrokenFile(
            "nhs-number-fails-modulus-11",
            "an NHS number whose check digit is wrong",
            "ed-modulus-11.csv",
            lambda: csv_bytes(changed(rows(), 2, nhs_number=SENTINEL_BAD_NHS_NUMBER)),
            Accepted(4, 3, {"NHS_NUMBER_INVALID:nhs_number": 1}),
        ),
        # --- periods
        BrokenFile(
            "rows-span-months-without-period",
            "rows from January, February and March, no --period",
            "ed-three-months.csv",
            lambda: csv_bytes(rows(2) + rows(1, "2025-02") + rows(1, "2025-03")),
            Refused(words=("rows span 3 months",), hint=("--period",)),
            period=None,
        ),
        BrokenFile(
            "period-does-not-match-rows",
            "--period 2025-01 for a file of March rows",
            "ed-march.csv",
            lambda: csv_bytes(rows(4, "2025-03")),
            Refused(
                words=("none of the 4 rows", "OUTSIDE_PERIOD:arrival_at"),
                hint=("check the period you gave", "2025-01"),
            ),
        ),
        # --- workbooks
        BrokenFile(
            "zip-bomb-as-xlsx",
            "a zip archive that unpacks 16 MiB from a few KiB, named .xlsx",
            "ed-bomb.xlsx",
            _zip_bomb,
            Refused(words=("zip bomb",)),
        ),
        BrokenFile(
            "html-named-xlsx",
            "an HTML table saved with an .xlsx name (not a zip at all)",
            "ed-web-export.xlsx",
            _html_named_xlsx,
            Refused(words=("not an Excel workbook",)),
        ),
        BrokenFile(
            "zip-of-csv-named-xlsx",
            "a zip archive of a CSV, named .xlsx",
            "ed-zipped.xlsx",
            _zip_of_csv,
            Refused(words=("cannot be read as an Excel workbook",)),
        ),
        BrokenFile(
            "xlsx-empty-first-sheet",
            "the first sheet is empty (the data is on the second)",
            "ed-empty-sheet.xlsx",
            lambda: xlsx_bytes({"Sheet1": [], "Sheet2": table(rows())}),
            Refused(words=("sheet 'Sheet1' is empty",), hint=("sheet:",)),
        ),
        BrokenFile(
            "xlsx-header-only",
            "a workbook with a header row and no rows",
            "ed-header-only.xlsx",
            lambda: xlsx_bytes({"Data": table([]), "Notes": [[SENTINEL_TEXT]]}),
            Refused(words=("no data rows",)),
        ),
        BrokenFile(
            "xlsx-missing-mapped-sheet",
            "the mapping names sheet 'Data'; the workbook has only 'Sheet1'",
            "ed-wrong-sheet.xlsx",
            lambda: xlsx_bytes({"Sheet1": table(rows())}),
            Refused(words=("no sheet 'Data'", "'Sheet1'")),
            mapping=SHEET_MAPPING,
        ),
        BrokenFile(
            "xlsx-formula-without-value",
            "a formula cell never calculated (no cached value): read as empty, never evaluated",
            "ed-formula.xlsx",
            lambda: xlsx_bytes(
                {
                    "Data": [
                        list(FIELDS),
                        *[
                            [
                                f'=CONCAT("{SENTINEL_TEXT}","-9")'
                                if c == "attendance_id" and n == 1
                                else r[c]
                                for c in FIELDS
                            ]
                            for n, r in enumerate(rows())
                        ],
                    ]
                }
            ),
            Accepted(4, 3, {"MISSING_VALUE:attendance_id": 1}),
        ),
        BrokenFile(
            "old-binary-xls",
            "an Excel 97-2003 .xls (OLE2 compound file)",
            "ed-old.xls",
            _old_xls,
            Refused(words=("old-style .xls",)),
        ),
        # --- Parquet
        BrokenFile(
            "truncated-parquet",
            "the first half of a Parquet file",
            "ed-truncated.parquet",
            _truncated_parquet,
            Refused(words=("cannot be read as Parquet",)),
        ),
        BrokenFile(
            "parquet-of-another-dataset",
            "an NHS 111 calls Parquet file sent as ED attendances",
            "ed-is-111.parquet",
            _other_dataset_parquet,
            Refused(words=("does not look like a ed_attendance file",)),
        ),
        BrokenFile(
            "parquet-typed-columns",
            "timestamps as Parquet timestamps, whole numbers as doubles and integers",
            "ed-typed.parquet",
            _typed_parquet,
            Accepted(4, 4, values={"age_years": (20, 21, 22, 23)}),
        ),
        BrokenFile(
            "parquet-huge-value",
            "a 5 MiB string in row 2 of a Parquet file",
            "ed-huge.parquet",
            _huge_parquet,
            Refused(words=("data row 2", "longer than")),
        ),
        # --- JSON lines
        BrokenFile(
            "jsonl-broken-line",
            "line 3 is cut off in the middle of an object",
            "ed-broken.jsonl",
            lambda: b"".join(
                jsonl_bytes(rows()).splitlines(keepends=True)[n][: 40 if n == 2 else None]
                + (b"\n" if n == 2 else b"")
                for n in range(4)
            ),
            Refused(words=("line 3", "not valid JSON")),
        ),
        BrokenFile(
            "jsonl-arrays",
            "each line is a JSON array, not an object",
            "ed-arrays.jsonl",
            lambda: jsonl_bytes([[r[c] for c in FIELDS] for r in rows()]),
            Refused(words=("line 1", "not a JSON object")),
        ),
        BrokenFile(
            "jsonl-latin-1",
            "JSON lines in Latin-1 (JSON must be UTF-8)",
            "ed-latin1.jsonl",
            lambda: "".join(
                json.dumps(r, ensure_ascii=False) + "\n"
                for r in changed(rows(), 1, attendance_id=f"{SENTINEL_TEXT}-é")
            ).encode("latin-1"),
            Refused(words=("line 2", "UTF-8")),
        ),
        BrokenFile(
            "jsonl-utf-8-bom",
            "JSON lines that start with a UTF-8 byte order mark",
            "ed-bom.jsonl",
            lambda: codecs.BOM_UTF8 + jsonl_bytes(rows()),
            ok4,
        ),
    ]


CORPUS: tuple[BrokenFile, ...] = tuple(_cases())


def contains_sentinel(data: bytes) -> bool:
    """Whether the bytes of a built file hold the sentinel text, in any encoding the corpus
    uses or inside a zip archive."""
    encodings = ("utf-8", "utf-16-le", "utf-16-be")
    if any(SENTINEL_TEXT.encode(e) in data for e in encodings):
        return True
    if not data.startswith(b"PK\x03\x04"):
        return False
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            with archive.open(name) as member:
                if SENTINEL_TEXT.encode() in member.read(1 << 20):
                    return True
    return False
