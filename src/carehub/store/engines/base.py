"""The `Engine` protocol: what the domain flows may ask of a query engine.

Callers build portable SQL as sqlglot expressions; anything whose meaning differs between
dialects (parsing timestamps, minutes between two timestamps, HMAC, regular expressions, reading
files) is asked of the engine, which returns an expression for its own dialect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlglot import exp

from carehub.store.keys import KEY_ID_HEX_DIGITS, KEY_ID_MESSAGE

HMAC_BLOCK_BYTES = 64  # SHA-256 block size (RFC 2104)


@dataclass(frozen=True)
class HmacPads:
    """The inner and outer pads of an HMAC-SHA-256 key, computed once in Python (RFC 2104), so
    that SQL needs only SHA-256 and concatenation."""

    inner: bytes
    outer: bytes

    @classmethod
    def from_key(cls, key: bytes) -> HmacPads:
        if len(key) > HMAC_BLOCK_BYTES:
            key = hashlib.sha256(key).digest()
        block = key.ljust(HMAC_BLOCK_BYTES, b"\0")
        return cls(bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block))

    @property
    def key_id(self) -> str:
        """The id of the key these pads come from (``store.keys.key_id``): its HMAC of a fixed
        message, computed from the pads as RFC 2104 defines it. Safe to show and store."""
        inner = hashlib.sha256(self.inner + KEY_ID_MESSAGE).digest()
        return hashlib.sha256(self.outer + inner).hexdigest()[:KEY_ID_HEX_DIGITS]

    def __repr__(self) -> str:  # never print key material
        return "HmacPads(<redacted>)"


class EngineSession(Protocol):
    """An open connection of an engine; temporary tables live as long as it does."""

    def rows(self, query: exp.Expr) -> list[tuple[Any, ...]]: ...

    def columns(self, query: exp.Query) -> list[str]: ...

    def batches(self, query: exp.Expr, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The query's rows, ``size`` at a time, without holding them all in memory."""
        ...

    def stage(self, name: str, query: exp.Expr) -> None:
        """Materialise ``query`` as a temporary table ``name``, keeping row order."""
        ...

    def view(self, name: str, query: exp.Expr) -> None:
        """Name ``query`` as a temporary view ``name``: read afresh by every query that uses it."""
        ...

    def copy_to_parquet(self, query: exp.Query, path: Path) -> int:
        """Write the query's rows to one Parquet file; return the number of rows."""
        ...


class Engine(Protocol):
    name: str
    dialect: str

    def session(self, *, ingest: bool = False) -> AbstractContextManager[EngineSession]:
        """A connection; an ingest session has a bounded memory and may spill to disk."""
        ...

    def scan_csv(
        self,
        path: Path,
        *,
        delimiter: str,
        encoding: str,
        columns: Sequence[str] | None = None,
        header: bool = True,
    ) -> exp.Expr:
        """A table expression reading every column of a CSV file as text, with RFC 4180 quotes.
        ``columns`` are the names in its header (already checked): the rest is read as data,
        nothing is guessed, and a line with too many or too few fields is an error. A file
        without a header line (``header`` False, such as an ODS extract) needs ``columns``."""
        ...

    def scan_parquet(self, paths: list[Path], *, partitions: bool = False) -> exp.Expr:
        """Read Parquet files; with ``partitions``, add the ``key=value`` folders of each path
        (the lake's ``org`` and ``period``) as text columns."""
        ...

    def try_timestamp(self, value: exp.Expr, fmt: str | None) -> exp.Expr:
        """Text to timestamp with a strftime-style format (ISO 8601 when None); NULL if bad."""
        ...

    def try_integer(self, value: exp.Expr) -> exp.Expr:
        """Text to a whole number, NULL if it is not one (a value with a fraction is not)."""
        ...

    def try_decimal(self, value: exp.Expr) -> exp.Expr:
        """Text to a double-precision number, NULL if it is not one."""
        ...

    def full_match(self, value: exp.Expr, pattern: str) -> exp.Expr: ...

    def digit_at(self, value: exp.Expr, position: int) -> exp.Expr:
        """The integer value of the character at a 1-based position of a digit string."""
        ...

    def hmac_sha256(self, message: exp.Expr, pads: HmacPads) -> exp.Expr:
        """HMAC-SHA-256 of a text as 32 bytes; must equal Python's ``hmac``."""
        ...

    def minutes_between(self, start: exp.Expr, end: exp.Expr) -> exp.Expr:
        """Whole and fractional minutes from ``start`` to ``end``."""
        ...

    def month_of(self, value: exp.Expr) -> exp.Expr:
        """The yyyy-mm text of a timestamp."""
        ...

    def row_number_column(self) -> exp.Expr:
        """The insertion-order row number of a staged table (0-based)."""
        ...

    def join_reasons(self, parts: list[exp.Expr]) -> exp.Expr:
        """Join the non-NULL texts of ``parts`` with ';' ('' when all are NULL)."""
        ...
