"""Parquet and JSON lines submissions, streamed to a temporary UTF-8 CSV (memory stays bounded)
so that the one-pass standardisation reads them like any other file."""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq
from pyarrow import ArrowException

from carehub.acquire.csv_files import CsvProfile, converted_csv, refuse
from carehub.acquire.values import as_text
from carehub.model.mappings import FeedMapping

BATCH_ROWS = 50_000  # Parquet rows read at a time


def _parquet_rows(source: pq.ParquetFile, header: tuple[str, ...]) -> Iterator[list[str]]:
    for batch in source.iter_batches(batch_size=BATCH_ROWS):
        columns = [batch.column(name).to_pylist() for name in header]
        for values in zip(*columns, strict=True):
            yield [as_text(v) for v in values]


def parquet_table(path: Path) -> tuple[tuple[str, ...], Iterator[list[str]]]:
    """The columns of a Parquet file and its rows as text, read a batch at a time."""
    try:
        source = pq.ParquetFile(path)
    except (ArrowException, OSError) as exc:
        raise refuse(
            path, "the file cannot be read as Parquet", "write the file again, or send CSV"
        ) from exc
    header = tuple(source.schema_arrow.names)
    return header, _parquet_rows(source, header)


@contextmanager
def open_parquet(path: Path, mapping: FeedMapping, scratch: Path) -> Iterator[CsvProfile]:
    header, rows = parquet_table(path)
    with converted_csv(path, header, rows, mapping, scratch) as profile:
        yield profile


def _json_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Each line as text: JSON is UTF-8 (RFC 8259); a byte order mark is ignored."""
    with path.open("rb") as handle:
        for number, data in enumerate(handle, start=1):
            try:
                line = data.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                raise refuse(
                    path, f"line {number} is not UTF-8 text", "JSON must be UTF-8: save it as UTF-8"
                ) from None
            yield number, line


def _json_objects(path: Path) -> Generator[tuple[int, dict[str, object]]]:
    for number, line in _json_lines(path):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise refuse(
                path,
                f"line {number} is not valid JSON ({exc.msg}, column {exc.colno})",
                "send one JSON object per line (JSON lines)",
            ) from None
        if not isinstance(record, dict):
            raise refuse(
                path, f"line {number} is not a JSON object", "send one JSON object per line"
            )
        yield number, record


def jsonl_table(path: Path) -> tuple[tuple[str, ...], Iterator[list[str]]]:
    """JSON lines: the keys of the first object are the columns; later objects may omit keys,
    and a key the first object lacks refuses the file when its line is read."""
    objects = _json_objects(path)
    first = next(objects, None)
    if first is None:
        raise refuse(path, "the file has no JSON objects", "send one JSON object per line")
    header = tuple(first[1])

    def rows() -> Iterator[list[str]]:
        try:
            yield [as_text(first[1].get(k)) for k in header]
            for number, record in objects:
                extra = set(record) - set(header)
                if extra:
                    raise refuse(
                        path,
                        f"line {number} has keys the first line does not "
                        f"({', '.join(sorted(map(repr, extra)))})",
                        "give every object the same keys",
                    )
                yield [as_text(record.get(k)) for k in header]
        finally:
            objects.close()  # a reader that stops early (a sample) closes the file too

    return header, rows()


@contextmanager
def open_jsonl(path: Path, mapping: FeedMapping, scratch: Path) -> Iterator[CsvProfile]:
    header, rows = jsonl_table(path)
    with converted_csv(path, header, rows, mapping, scratch) as profile:
        yield profile
