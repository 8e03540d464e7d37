"""Governed outputs: rows (pseudonymised or identifiable) and counts (aggregate, with disclosure
control). Each runs the restricted relation of the governed reader, and records in the audit log
how many rows or cells it returned."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlglot import exp

from carehub.errors import UserError
from carehub.governance.access import GovernedReader, read_detail
from carehub.governance.actors import Actor
from carehub.governance.disclosure import DisclosurePolicy, ReleasedTable, release_table
from carehub.governance.policy import Decision, Level, Purpose
from carehub.model.agreements import VERSION_FIELDS, DisclosureRule

MAX_PAGE_ROWS = 10_000  # one page of rows through the web or the API; exports stream the rest
EXPORT_BATCH_ROWS = 50_000  # rows fetched from the engine at a time while streaming an export
MAX_COUNT_DIMENSIONS = 2  # a cross-tabulation: more makes every cell small and suppressed
MAX_COUNT_CELLS = 5_000  # a table to read, not a row-level extract by another name


@dataclass(frozen=True)
class RowsResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    decision: Decision
    more: bool  # more rows follow this page

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class CountsResult:
    dimensions: tuple[str, ...]
    table: ReleasedTable
    decision: Decision


def _plain(value: Any) -> Any:
    """Values as they leave: a person_id as hex text, timestamps as ISO 8601."""
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


class Outputs:
    def __init__(self, reader: GovernedReader) -> None:
        self.reader = reader

    def rows(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        *,
        level: Level = Level.PSEUDONYMISED,
        fields: tuple[str, ...] | None = None,
        limit: int = 100,
        offset: int = 0,
        as_of: datetime | None = None,
    ) -> RowsResult:
        if level is Level.AGGREGATE:
            raise UserError(
                "rows are read at pseudonymised or identifiable level",
                hint="ask for counts instead",
            )
        if not 0 < limit <= MAX_PAGE_ROWS or offset < 0:
            raise UserError(f"limit must be 1 to {MAX_PAGE_ROWS:,} and offset not negative")
        read = self.reader.read_standard(
            actor, purpose, dataset, level, fields=fields, as_of=as_of, audit=False
        )
        columns = _columns(read.decision)
        rows: list[tuple[Any, ...]] = []
        if read.source is not None:
            page = (
                exp.select("*")
                .from_(read.source)
                # every column: a stable order, so that pages neither skip nor repeat rows
                .order_by(*[exp.column(name, quoted=True) for name in columns])
                .limit(limit + 1)
                .offset(offset)
            )
            with self.reader.engine.session() as session:
                rows = [tuple(map(_plain, row)) for row in session.rows(page)]
        more = len(rows) > limit
        rows = rows[:limit]
        detail = read_detail(read, level, as_of, rows=len(rows))
        self.reader.record(actor, read.decision, purpose, f"standard/{dataset}", detail)
        return RowsResult(columns, rows, read.decision, more)

    def export(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        *,
        level: Level = Level.PSEUDONYMISED,
        fields: tuple[str, ...] | None = None,
        as_of: datetime | None = None,
    ) -> tuple[tuple[str, ...], Iterator[list[tuple[Any, ...]]]]:
        """Every row the agreements allow, streamed in batches; the export is audited when it
        has been read to the end, with the number of rows that left."""
        read = self.reader.read_standard(
            actor, purpose, dataset, level, fields=fields, as_of=as_of, audit=False
        )
        columns = _columns(read.decision)

        def batches() -> Iterator[list[tuple[Any, ...]]]:
            sent = 0
            try:
                if read.source is not None:
                    with self.reader.engine.session() as session:
                        for batch in session.batches(
                            exp.select("*").from_(read.source), EXPORT_BATCH_ROWS
                        ):
                            sent += len(batch)
                            yield [tuple(map(_plain, row)) for row in batch]
            finally:
                detail = read_detail(read, level, as_of, rows=sent)
                target = f"standard/{dataset}"
                self.reader.record(actor, read.decision, purpose, target, detail, "export")

        return columns, batches()

    def counts(
        self,
        actor: Actor,
        purpose: Purpose,
        dataset: str,
        by: tuple[str, ...],
        *,
        as_of: datetime | None = None,
    ) -> CountsResult:
        """Rows counted by one or two fields, after disclosure control with complementary
        suppression under the strictest rule of the agreements used."""
        if not 1 <= len(by) <= MAX_COUNT_DIMENSIONS or len(set(by)) != len(by):
            raise UserError(
                f"count by 1 to {MAX_COUNT_DIMENSIONS} different fields",
                hint="e.g. by org_code and period",
            )
        read = self.reader.read_standard(
            actor, purpose, dataset, Level.AGGREGATE, fields=by, as_of=as_of, audit=False
        )
        cells: dict[tuple[str, str], int] = {}
        if read.source is not None:
            keys = [exp.column(name, quoted=True) for name in by]
            query = (
                exp.select(*keys, exp.func("count", exp.Star()))
                .from_(read.source)
                .group_by(*keys)
                .limit(MAX_COUNT_CELLS + 1)
            )
            with self.reader.engine.session() as session:
                groups = session.rows(query)
            if len(groups) > MAX_COUNT_CELLS:
                raise UserError(
                    f"counting {dataset} by {', '.join(by)} makes more than "
                    f"{MAX_COUNT_CELLS:,} cells",
                    hint="count by fields with fewer values, such as org_code, period or a code",
                )
            for *key, count in groups:
                labels = [_label(k) for k in key] + ["all"] * (2 - len(key))
                cells[(labels[0], labels[1])] = int(count)
        rule = read.decision.disclosure or DisclosureRule()
        table = release_table(
            cells,
            DisclosurePolicy(rule.threshold, rule.rounding_base),
            rows=sorted({row for row, _ in cells}),
            columns=sorted({column for _, column in cells}),
        )
        detail = read_detail(read, Level.AGGREGATE, as_of, rows=len(cells))
        self.reader.record(actor, read.decision, purpose, f"standard/{dataset}", detail)
        return CountsResult(by, table, read.decision)


def _columns(decision: Decision) -> tuple[str, ...]:
    """The relation's columns: whose rows and which month first, then the fields allowed."""
    return (*VERSION_FIELDS, *[f for f in decision.fields if f not in VERSION_FIELDS])


def _label(value: Any) -> str:
    return "(missing)" if value is None else str(_plain(value))
