"""Whole-file checks of a CSV submission, before anything is stored.

Detects the encoding (UTF-8 with or without BOM, else Windows-1252, which is transcoded to a
temporary UTF-8 copy) and the delimiter, reads the header and checks it against the feed mapping.
A file with NUL bytes (binary, or UTF-16 without a BOM), one that mixes UTF-8 with another
encoding, or one with bytes that are no Windows-1252 character is refused. Every refusal names
the file and the line or column and says what to do.
"""

from __future__ import annotations

import codecs
import csv
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from carehub.errors import DataContractError
from carehub.model.datasets import get_dataset
from carehub.model.mappings import FeedMapping

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
READ_CHUNK_CHARS = 1 << 20
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
SAVE_AS_UTF8 = 'save it as "CSV UTF-8 (comma delimited)" and send it again'
# Bytes that are not UTF-8 decode to lone surrogates U+DC80-U+DCFF under "surrogateescape".
_NOT_UTF8 = re.compile("[\udc80-\udcff]")
_UTF8_TEXT = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a character UTF-8 spent 2+ bytes on
_NOT_CP1252 = re.compile("[\udc81\udc8d\udc8f\udc90\udc9d]")  # undefined in Windows-1252


@dataclass(frozen=True)
class CsvProfile:
    path: Path  # a UTF-8 file (the original, or a transcoded temporary copy)
    original: Path
    encoding: str
    delimiter: str
    columns: tuple[str, ...]
    missing_optional: tuple[str, ...]  # optional fields whose mapped column is not in the file
    converted: bool = False  # written by carehub from a workbook, Parquet or JSON lines file

    def where(self, line: int) -> str:
        """Line ``line`` of ``path`` (the header is line 1) as the sender knows it."""
        return f"data row {line - 1}" if self.converted else f"line {line}"


@dataclass(frozen=True)
class _TextScan:
    """Where (the 1-based line) a file first shows each sign of what it is, None if never."""

    nul: int | None = None
    not_utf8: int | None = None
    utf8_text: int | None = None
    not_cp1252: int | None = None


def _breaks(text: str, previous: str = "") -> int:
    """Line breaks (CRLF, LF or CR) in ``text``; a CRLF split from ``previous`` counts once."""
    seam = previous.endswith("\r") and text.startswith("\n")
    return text.count("\n") + text.count("\r") - text.count("\r\n") - seam


def _line_at(path: Path, offset: int) -> int:
    """The line of the byte at ``offset``."""
    line, previous, left = 1, "", offset
    with path.open("rb") as handle:
        while left > 0 and (chunk := handle.read(min(READ_CHUNK_CHARS, left))):
            text = chunk.decode("latin-1")  # one character per byte
            line += _breaks(text, previous)
            previous, left = text, left - len(chunk)
    return line


def _scan_text(path: Path) -> _TextScan:
    """One streamed pass over the bytes, at about the speed of reading them: NUL bytes and UTF-8
    validity. Only a file with a problem is read again, to say on which line."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    nul: int | None = None
    utf8, offset = True, 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(READ_CHUNK_CHARS)
            if nul is None and (at := chunk.find(b"\0")) >= 0:
                nul = offset + at
            offset += len(chunk)
            try:
                utf8 = utf8 and decoder.decode(chunk, final=not chunk) is not None
            except UnicodeDecodeError:
                utf8 = False
            if not chunk:
                break
    found = _TextScan() if utf8 else _locate_encodings(path)
    return replace(found, nul=None if nul is None else _line_at(path, nul))


def _locate_encodings(path: Path) -> _TextScan:
    """For a file that is not UTF-8: the first line that is not, the first that is UTF-8 text
    (mixed encodings), and the first with a byte that is no Windows-1252 character."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    patterns = {"not_utf8": _NOT_UTF8, "utf8_text": _UTF8_TEXT, "not_cp1252": _NOT_CP1252}
    found: dict[str, int] = {}
    line, previous = 1, ""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(READ_CHUNK_CHARS)
            text = decoder.decode(chunk, final=not chunk)
            for key, pattern in () if text.isascii() else patterns.items():
                if key not in found and (match := pattern.search(text)):
                    found[key] = line + _breaks(text[: match.start()], previous)
            line += _breaks(text, previous)
            previous = text
            if not chunk:
                break
    return _TextScan(**found)


def _check_text(path: Path, scan: _TextScan) -> None:
    if scan.nul is not None:
        raise refuse(
            path,
            f"line {scan.nul} has a NUL byte: this is not a text file (or it is UTF-16 "
            "without a byte order mark)",
            SAVE_AS_UTF8,
        )
    if scan.not_utf8 is not None and scan.utf8_text is not None:
        raise refuse(
            path,
            f"line {scan.not_utf8} is not UTF-8 but line {scan.utf8_text} is: the file mixes "
            "two encodings",
            "export the whole file again from the system that made it, then " + SAVE_AS_UTF8,
        )
    if scan.not_utf8 is not None and scan.not_cp1252 is not None:
        raise refuse(
            path,
            f"line {scan.not_cp1252} has bytes that are neither UTF-8 nor Windows-1252 text",
            SAVE_AS_UTF8,
        )


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
    # The engine matches names regardless of case, so names that differ only in capitals repeat.
    folded = Counter(c.casefold() for c in columns if c.strip())
    duplicates = sorted({c for c in columns if c.strip() and folded[c.casefold()] > 1})
    if duplicates:
        by_case = len(duplicates) > len({d.casefold() for d in duplicates})
        raise refuse(
            path,
            (
                f"line 1 repeats column(s) {', '.join(map(repr, duplicates))}"
                if not any(ch.isdigit() for name in duplicates for ch in name)
                else f"line 1 repeats {len(duplicates)} column name(s)"  # a data row? never shown
            )
            + (" (names that differ only in capitals are the same name)" if by_case else ""),
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
                path, 'the file is encoded as UTF-16 (Excel\'s "Unicode text")', SAVE_AS_UTF8
            )
    scan = _scan_text(path)
    _check_text(path, scan)
    utf8 = scan.not_utf8 is None
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


@contextmanager
def converted_csv(
    path: Path,
    header: tuple[str, ...],
    rows: Iterable[list[str]],
    mapping: FeedMapping,
    scratch: Path,
    kind: str | None = None,
) -> Iterator[CsvProfile]:
    """Check the header of a workbook's sheet, a Parquet or a JSON lines file and yield its rows
    as a temporary UTF-8 CSV (removed afterwards), read by the same one pass as any CSV."""
    missing_optional = check_header(path, header, mapping)
    fd, name = tempfile.mkstemp(suffix=".csv", dir=scratch)
    copy = Path(name)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        kind = kind or path.suffix.lstrip(".") or "columnar"
        yield CsvProfile(copy, path, kind, ",", header, missing_optional, converted=True)
    finally:
        copy.unlink(missing_ok=True)
