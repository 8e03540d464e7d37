"""Whole-file checks of a CSV submission, before anything is stored.

Detects the encoding (UTF-8 with or without BOM, else Windows-1252, which is transcoded to a
temporary UTF-8 copy) and the delimiter, reads the header and checks it against the feed mapping.
Every refusal names the file and the column and says what to do.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from carehub.errors import DataContractError
from carehub.model.datasets import get_dataset
from carehub.model.mappings import FeedMapping

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
READ_CHUNK_CHARS = 1 << 20
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class CsvProfile:
    path: Path  # a UTF-8 file (the original, or a transcoded temporary copy)
    original: Path
    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    missing_optional: tuple[str, ...]  # optional fields whose mapped column is not in the file


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(READ_CHUNK_CHARS):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _transcode(path: Path, encoding: str, folder: Path) -> Path:
    fd, name = tempfile.mkstemp(suffix=".csv", dir=folder)
    with (
        path.open(encoding=encoding, newline="") as src,
        open(fd, "w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(READ_CHUNK_CHARS):
            dst.write(chunk)
    return Path(name)


def _header_line(path: Path) -> str:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return handle.readline().rstrip("\r\n")


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in CANDIDATE_DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def refuse(path: Path, problem: str, hint: str) -> DataContractError:
    return DataContractError(f"{path.name}: {problem}", hint=hint)


def check_header(path: Path, columns: tuple[str, ...], mapping: FeedMapping) -> tuple[str, ...]:
    """The columns of required fields must be present and the file must look like the dataset;
    return the optional fields whose columns are missing (they are left empty)."""
    expected = {m.column for m in mapping.fields.values() if m.column}
    present = expected & set(columns)
    if len(present) * 2 < len(expected):
        raise refuse(
            path,
            f"this does not look like a {mapping.dataset} file: only {len(present)} of the "
            f"{len(expected)} columns the {mapping.organisation} mapping expects are in its header",
            f"check that you chose the right file and dataset (--dataset {mapping.dataset})",
        )
    spec = get_dataset(mapping.dataset)
    absent = {
        name: m.column for name, m in mapping.fields.items() if m.column and m.column not in columns
    }
    missing = [
        f"{column!r} (field {name})" for name, column in absent.items() if spec.field(name).required
    ]
    if missing:
        raise refuse(
            path,
            f"line 1 (the header) has no column {', no column '.join(missing)}",
            "add the column(s) to the extract, or update the feed mapping if they were renamed",
        )
    # Columns without a name (often empty cells an export left beyond the last column) cannot be
    # mapped, so only named columns must be unique; the submission warns that they are ignored.
    named = [c for c in columns if c.strip()]
    duplicates = sorted({c for c in named if named.count(c) > 1})
    if duplicates:
        raise refuse(
            path,
            f"line 1 repeats column(s) {', '.join(map(repr, duplicates))}",
            "give every column a unique name",
        )
    return tuple(sorted(name for name in absent if not spec.field(name).required))


@dataclass(frozen=True)
class CsvText:
    """A CSV file that passed the whole-file checks, readable as UTF-8, and its header."""

    path: Path  # a UTF-8 file (the original, or a transcoded temporary copy)
    original: Path
    encoding: str
    delimiter: str
    columns: tuple[str, ...]


@contextmanager
def readable_csv(path: Path, scratch: Path) -> Iterator[CsvText]:
    """Check a CSV file as a whole (present, not empty, not UTF-16, has a header) and yield it
    readable as UTF-8 with its delimiter and columns; a transcoded copy is removed afterwards."""
    if not path.is_file():
        raise DataContractError(f"{path}: no such file", hint="check the path and try again")
    if path.stat().st_size == 0:
        raise refuse(
            path,
            "the file is empty (0 bytes)",
            "export the file again; it has no header and no rows",
        )
    with path.open("rb") as handle:
        if handle.read(2) in UTF16_BOMS:
            raise refuse(
                path,
                'the file is encoded as UTF-16 (Excel\'s "Unicode text")',
                'save it as "CSV UTF-8 (comma delimited)" and send it again',
            )
    utf8 = _is_utf8(path)
    readable = path if utf8 else _transcode(path, "cp1252", scratch)
    try:
        with path.open("rb") as handle:
            bom = handle.read(len(UTF8_BOM)) == UTF8_BOM
        header = _header_line(readable)
        delimiter = _delimiter(header)
        columns = tuple(next(csv.reader([header], delimiter=delimiter), []))
        if not any(c.strip() for c in columns):
            raise refuse(
                path,
                "line 1 is blank: the file has no header",
                "the first line must name the columns",
            )
        encoding = ("utf-8-sig" if bom else "utf-8") if utf8 else "windows-1252"
        yield CsvText(readable, path, encoding, delimiter, columns)
    finally:
        if readable != path:
            readable.unlink(missing_ok=True)


@contextmanager
def open_csv(path: Path, mapping: FeedMapping, scratch: Path) -> Iterator[CsvProfile]:
    """Profile a CSV file and yield it ready to read as UTF-8; temporary copies are removed."""
    with readable_csv(path, scratch) as text:
        missing_optional = check_header(path, text.columns, mapping)
        yield CsvProfile(
            text.path, path, text.encoding, text.delimiter, text.columns, missing_optional
        )
