"""The embedded DuckDB engine (the default)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from sqlglot import exp

from carehub.store.engines.base import HmacPads

DIALECT = "duckdb"
# DuckDB 2.0 turns TRY_CAST over read_csv columns into a hard cast (duckdb/duckdb#23818); a test
# in tests/integration fails when the workaround stops being needed or stops working.
INGEST_SETTINGS = ("SET disabled_optimizers='type_pushdown'",)
# Issue 4: a 10-million-row file is ingested in under 2 GB. Past this, DuckDB spills the checked
# table to the spill folder (its default, 80% of RAM, would let one submission take the machine).
INGEST_MEMORY_LIMIT = "1GB"


def _sql(query: exp.Expr) -> str:
    return query.sql(dialect=DIALECT)


def _text(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _call(name: str, *args: exp.Expr) -> exp.Expr:
    """A DuckDB function called by its own name, with no translation by sqlglot."""
    return exp.Anonymous(this=name, expressions=list(args))


def _unique_names(columns: Sequence[str]) -> list[str]:
    """The header's names, with empty ones named by position (DuckDB names ignore case)."""
    taken = {c.casefold() for c in columns}
    names = []
    for position, name in enumerate(columns, start=1):
        if not name:
            name = f"column{position}"
            while name.casefold() in taken:
                name = f"_{name}"
            taken.add(name.casefold())
        names.append(name)
    return names


def _blob(data: bytes) -> exp.Expr:
    return _call("unhex", _text(data.hex()))


class DuckDBSession:
    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self.connection = connection

    def rows(self, query: exp.Expr) -> list[tuple[Any, ...]]:
        return self.connection.execute(_sql(query)).fetchall()

    def batches(self, query: exp.Expr, size: int) -> Iterator[list[tuple[Any, ...]]]:
        result = self.connection.execute(_sql(query))
        while batch := result.fetchmany(size):
            yield batch

    def columns(self, query: exp.Query) -> list[str]:
        limited = exp.select("*").from_(query.subquery("q")).limit(0)
        relation = self.connection.execute(_sql(limited))
        return [column[0] for column in relation.description or []]

    def stage(self, name: str, query: exp.Expr) -> None:
        create = exp.Create(
            this=exp.to_table(name, quoted=True),
            kind="TABLE",
            expression=query,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self.connection.execute(_sql(create))

    def view(self, name: str, query: exp.Expr) -> None:
        create = exp.Create(
            this=exp.to_table(name, quoted=True),
            kind="VIEW",
            expression=query,
            properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
        )
        self.connection.execute(_sql(create))

    def copy_to_parquet(self, query: exp.Query, path: Path) -> int:
        copy = exp.Copy(
            this=query.subquery(),
            kind=False,
            files=[_text(str(path))],
            params=[
                exp.CopyParameter(this=exp.var("FORMAT"), expression=exp.var("PARQUET")),
                exp.CopyParameter(this=exp.var("COMPRESSION"), expression=exp.var("ZSTD")),
            ],
        )
        result = self.connection.execute(_sql(copy)).fetchall()
        return int(result[0][0]) if result else 0


class DuckDBEngine:
    name = "duckdb"
    dialect = DIALECT

    def __init__(self, spill: Path | None = None) -> None:
        self.spill = spill  # where ingest sessions spill past their memory limit

    @contextmanager
    def session(self, *, ingest: bool = False) -> Iterator[DuckDBSession]:
        connection = duckdb.connect(":memory:")
        try:
            if ingest:
                for statement in INGEST_SETTINGS:
                    connection.execute(statement)
                connection.execute(f"SET memory_limit = '{INGEST_MEMORY_LIMIT}'")
                if self.spill is not None:
                    connection.execute("SET temp_directory = ?", [str(self.spill)])
            yield DuckDBSession(connection)
        finally:
            connection.close()

    def scan_csv(
        self,
        path: Path,
        *,
        delimiter: str,
        encoding: str,
        columns: Sequence[str] | None = None,
        header: bool = True,
    ) -> exp.Expr:
        # RFC 4180 quoting, always. With the header's names given, nothing is sniffed: DuckDB's
        # sniffer may otherwise skip leading rows, drop rows starting with '#' as comments or
        # give up on a ragged file without saying which line is wrong.
        options = [
            exp.EQ(this=exp.column("all_varchar"), expression=exp.true()),
            exp.EQ(this=exp.column("header"), expression=exp.true() if header else exp.false()),
            exp.EQ(this=exp.column("delim"), expression=_text(delimiter)),
            exp.EQ(this=exp.column("quote"), expression=_text('"')),
            exp.EQ(this=exp.column("escape"), expression=_text('"')),
            exp.EQ(this=exp.column("encoding"), expression=_text(encoding)),
            exp.EQ(this=exp.column("strict_mode"), expression=exp.true()),
            exp.EQ(this=exp.column("null_padding"), expression=exp.false()),
        ]
        if columns is not None:
            types = [
                exp.PropertyEQ(this=_text(name), expression=_text("VARCHAR"))
                for name in _unique_names(columns)
            ]
            options.append(exp.EQ(this=exp.column("auto_detect"), expression=exp.false()))
            options.append(
                exp.EQ(this=exp.column("columns"), expression=exp.Struct(expressions=types))
            )
        return _call("read_csv", _text(str(path)), *options)

    def scan_parquet(self, paths: list[Path], *, partitions: bool = False) -> exp.Expr:
        files = exp.Array(expressions=[_text(str(p)) for p in paths])
        if not partitions:
            return _call("read_parquet", files)
        options = [
            exp.EQ(this=exp.column("hive_partitioning"), expression=exp.true()),
            # '2025-06' stays text rather than becoming a date
            exp.EQ(this=exp.column("hive_types_autocast"), expression=exp.false()),
        ]
        return _call("read_parquet", files, *options)

    def try_timestamp(self, value: exp.Expr, fmt: str | None) -> exp.Expr:
        if fmt is None:
            return exp.TryCast(this=value, to=exp.DataType.build("TIMESTAMP"))
        return _call("try_strptime", value, _text(fmt))

    def try_integer(self, value: exp.Expr) -> exp.Expr:
        # DuckDB casts '1.5' to 2: callers first check that the text is a whole number
        # (standardise/compile.py INTEGER_PATTERN), which keeps that rule the same on every engine
        return exp.TryCast(this=_call("trim", value), to=exp.DataType.build("BIGINT"))

    def try_decimal(self, value: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=_call("trim", value), to=exp.DataType.build("DOUBLE"))

    def full_match(self, value: exp.Expr, pattern: str) -> exp.Expr:
        return _call("regexp_full_match", value, _text(pattern))

    def digit_at(self, value: exp.Expr, position: int) -> exp.Expr:
        digit = exp.Substring(
            this=value, start=exp.Literal.number(position), length=exp.Literal.number(1)
        )
        return exp.Cast(this=digit, to=exp.DataType.build("INTEGER"))

    def hmac_sha256(self, message: exp.Expr, pads: HmacPads) -> exp.Expr:
        inner = _call(
            "sha256", exp.DPipe(this=_blob(pads.inner), expression=_call("encode", message))
        )
        outer = _call("sha256", exp.DPipe(this=_blob(pads.outer), expression=_call("unhex", inner)))
        return _call("unhex", outer)

    def minutes_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        seconds = _call("date_diff", _text("second"), start, end)
        return exp.Div(this=seconds, expression=exp.Literal.number("60.0"))

    def month_of(self, value: exp.Expr) -> exp.Expr:
        return _call("strftime", value, _text("%Y-%m"))

    def row_number_column(self) -> exp.Expr:
        return exp.column("rowid")

    def join_reasons(self, parts: list[exp.Expr]) -> exp.Expr:
        return _call("concat_ws", _text(";"), *parts)
