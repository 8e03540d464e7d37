"""Statistical disclosure control of counts released in aggregate outputs.

Default policy (ARCHITECTURE.md §4, OpenSAFELY / NHS England): counts of 1 to 7 are redacted and
every other count is rounded to the nearest 5, so a released 5 cannot be known to be 6 or 7.

Tables (``release_table``, ``release_categories``) follow NHS Digital's 2018 rule by default:
totals are computed from the unrounded counts and then released like any count. Such a total
says something the released cells do not, so a table also gets complementary suppression: every
row and column, and the line of row totals and the line of column totals, ends with no redacted
value or at least two, and with none that the line's released total and other values pin to a
single count (rounding alone can: 7 + 7 + 12 + 12 released as *, *, 10, 10 with a total of 40
shows both redacted cells are 7). Under ``Totals.SUM_OF_RELEASED`` (OpenSAFELY) a total is the
sum of the released cells, says nothing they do not, and needs no complements.

The protection is per line: a redacted value cannot be worked out from one row or column and its
total. Solving several lines together (linear programming over the whole table) and differencing
related tables (all people against men only) are not checked, and a line whose every value, its
total included, is redacted is left as it is, having nothing more to redact.

Pure functions; the reference vectors are in tests/unit/governance/test_disclosure.py and the
properties in tests/generative/test_disclosure_properties.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SMALL_NUMBER_THRESHOLD = 7  # OpenSAFELY / NHS England SDC: redact counts of 1..7
ROUNDING_BASE = 5  # OpenSAFELY / NHS England SDC: round the rest to the nearest 5
REDACTED = "*"  # NHS Digital HES/ECDS disclosure control (2018): a redacted count is shown as *


def _round_half_up(value: int, base: int) -> int:
    return ((value + base // 2) // base) * base if base > 1 else value


class Totals(enum.Enum):
    """How the totals of a table are released."""

    ROUNDED = "rounded"  # NHS Digital 2018: "row/column totals will be calculated and then rounded"
    SUM_OF_RELEASED = "sum_of_released"  # OpenSAFELY releasing-files.md: the released cells' sum


@dataclass(frozen=True)
class DisclosurePolicy:
    threshold: int = SMALL_NUMBER_THRESHOLD
    rounding_base: int = ROUNDING_BASE
    totals: Totals = Totals.ROUNDED

    def __post_init__(self) -> None:
        if self.threshold < 0 or self.rounding_base < 1:
            raise ValueError("a disclosure policy needs a threshold of 0 or more and a base of 1+")
        # OpenSAFELY redacts up to 7, not 5, before rounding to 5 so that no released count is
        # at or below the threshold; a policy that would release one is refused.
        if _round_half_up(self.threshold + 1, self.rounding_base) <= self.threshold:
            raise ValueError(
                f"a threshold of {self.threshold} with rounding to the nearest "
                f"{self.rounding_base} would release a count above the threshold as one at or "
                "below it: choose another threshold or rounding base"
            )


DEFAULT_POLICY = DisclosurePolicy()


def release_count(value: int, policy: DisclosurePolicy = DEFAULT_POLICY) -> int | None:
    """The count as released: None when redacted, else rounded. Zero is released as zero."""
    if value < 0 or isinstance(value, bool):
        raise ValueError("a count cannot be negative")
    if value == 0:
        return 0
    if value <= policy.threshold:
        return None
    return _round_half_up(value, policy.rounding_base)


def release_proportion(
    numerator: int, denominator: int, policy: DisclosurePolicy = DEFAULT_POLICY
) -> float | None:
    """A proportion computed from the released (rounded) counts; None when either is redacted."""
    released_numerator = release_count(numerator, policy)
    released_denominator = release_count(denominator, policy)
    if released_numerator is None or not released_denominator:
        return None
    return released_numerator / released_denominator


def shown(value: int | None) -> str:
    """A released value as printed: ``*`` when redacted."""
    return REDACTED if value is None else str(value)


@dataclass(frozen=True)
class ReleasedTable:
    """A two-way table of counts after disclosure control; None is a redacted value."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[int | None, ...], ...]  # cells[i][j] is rows[i] by columns[j]
    row_totals: tuple[int | None, ...]
    column_totals: tuple[int | None, ...]
    grand_total: int | None

    def cell(self, row: str, column: str) -> int | None:
        return self.cells[self.rows.index(row)][self.columns.index(column)]

    def row_total(self, row: str) -> int | None:
        return self.row_totals[self.rows.index(row)]

    def column_total(self, column: str) -> int | None:
        return self.column_totals[self.columns.index(column)]

    def grid(self, total_label: str = "Total") -> tuple[tuple[str, ...], ...]:
        """The table as printed: a header, a line per row with its total, then the totals."""
        header = ("", *self.columns, total_label)
        body = tuple(
            (row, *map(shown, cells), shown(total))
            for row, cells, total in zip(self.rows, self.cells, self.row_totals, strict=True)
        )
        totals = (total_label, *map(shown, self.column_totals), shown(self.grand_total))
        return (header, *body, totals)


@dataclass(frozen=True)
class ReleasedCategories:
    """Counts by category and their total after disclosure control; None is a redacted value."""

    categories: tuple[str, ...]
    counts: tuple[int | None, ...]
    total: int | None

    def count(self, category: str) -> int | None:
        return self.counts[self.categories.index(category)]


def release_table(
    cells: Mapping[tuple[str, str], int],
    policy: DisclosurePolicy = DEFAULT_POLICY,
    *,
    rows: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> ReleasedTable:
    """Release a table of counts keyed by (row, column), with its row, column and grand totals.

    A missing key is a count of 0. Rows and columns are in the order given, else in the order
    they first appear in ``cells``; that order also breaks ties between complements.
    """
    row_names = _labels((row for row, _ in cells), rows, "row")
    column_names = _labels((column for _, column in cells), columns, "column")
    width = len(column_names) + 1  # each row of the layout ends with its total
    counts = [[cells.get((row, column), 0) for column in column_names] for row in row_names]
    layout = [[*line, sum(line)] for line in counts]
    layout.append([sum(column) for column in zip(*layout, strict=True)] or [0])
    released = _release(
        [value for line in layout for value in line], _lines(width, len(layout)), policy
    )
    grid = [tuple(released[start : start + width]) for start in range(0, len(released), width)]
    return ReleasedTable(
        rows=row_names,
        columns=column_names,
        cells=tuple(line[:-1] for line in grid[:-1]),
        row_totals=tuple(line[-1] for line in grid[:-1]),
        column_totals=grid[-1][:-1],
        grand_total=grid[-1][-1],
    )


def release_categories(
    counts: Mapping[str, int], policy: DisclosurePolicy = DEFAULT_POLICY
) -> ReleasedCategories:
    """Release counts by category (in the mapping's order) and their total, as one line."""
    values = [*counts.values(), sum(counts.values())]
    line = _Line(cells=tuple(range(len(counts))), total=len(counts))
    released = _release(values, [line], policy)
    return ReleasedCategories(tuple(counts), tuple(released[:-1]), released[-1])


def _labels(seen: Iterable[str], given: Sequence[str] | None, kind: str) -> tuple[str, ...]:
    labels = tuple(dict.fromkeys(seen))
    if given is None:
        return labels
    if len(set(given)) != len(given):
        raise ValueError(f"a {kind} is named twice in the {kind}s given")
    if not set(labels) <= set(given):
        raise ValueError(f"a cell's {kind} is not among the {kind}s given")
    return tuple(given)


@dataclass(frozen=True)
class _Line:
    """Positions of values that add up to the value at position ``total``."""

    cells: tuple[int, ...]
    total: int


def _lines(width: int, height: int) -> list[_Line]:
    """The lines of a table laid out row by row, each row ending with its total and the last row
    holding the column totals: every row, then every column (the totals' lines last)."""
    across = [
        _Line(tuple(range(row * width, row * width + width - 1)), row * width + width - 1)
        for row in range(height)
    ]
    down = [
        _Line(tuple(range(column, (height - 1) * width, width)), (height - 1) * width + column)
        for column in range(width)
    ]
    return across[:-1] + down[:-1] + [across[-1], down[-1]]


def _release(values: list[int], lines: list[_Line], policy: DisclosurePolicy) -> list[int | None]:
    released = [release_count(value, policy) for value in values]
    if policy.totals is Totals.SUM_OF_RELEASED:
        for line in lines:  # inner lines come first, so a total's cells are released before it
            released[line.total] = sum(released[cell] or 0 for cell in line.cells)
        return released
    redacted = {position for position, value in enumerate(released) if value is None}
    changed = True
    while changed:
        changed = False
        for line in lines:
            if _exposed(line, released, redacted, policy):
                complement = _complement(line, released, redacted)
                changed = changed or complement not in redacted
                redacted.add(complement)
    return [None if position in redacted else value for position, value in enumerate(released)]


def _exposed(
    line: _Line, released: list[int | None], redacted: set[int], policy: DisclosurePolicy
) -> bool:
    """Whether the line gives away a redacted value: it holds exactly one, or its released total
    and other values leave one of them a single possible count.

    The reader checked for takes every redacted value to be 1 to the threshold, as a primary one
    is. With two or more redacted cells that also covers a reader who allows any positive count
    (a complement can be large): such a reader can pin a cell only to 1, and then so can this one.
    """
    hidden = [position for position in (*line.cells, line.total) if position in redacted]
    if len(hidden) == 1:
        return True
    if not hidden or line.total in redacted:
        return False
    bounds = {cell: _bounds(cell, released, redacted, policy) for cell in line.cells}
    total_low, total_high = _bounds(line.total, released, redacted, policy)
    all_low = sum(low for low, _ in bounds.values())
    all_high = sum(high for _, high in bounds.values())
    for cell in hidden:
        low, high = bounds[cell]
        # what the cell can be: the total less what the line's other values can add up to
        if max(low, total_low - (all_high - high)) == min(high, total_high - (all_low - low)):
            return True
    return False


def _bounds(
    position: int, released: list[int | None], redacted: set[int], policy: DisclosurePolicy
) -> tuple[int, int]:
    """The counts a reader of the release takes a value to lie between."""
    if position in redacted:
        return 1, policy.threshold
    value = released[position]
    if not value:
        return 0, 0
    base = policy.rounding_base
    return max(value - base // 2, policy.threshold + 1), value + base - base // 2 - 1


def _complement(line: _Line, released: list[int | None], redacted: set[int]) -> int:
    """The smallest non-zero released value of the line (the first of equals), else its total.

    Chosen from released values only, so which one it is tells nothing more."""
    candidates = [
        (released[cell] or 0, order, cell)
        for order, cell in enumerate(line.cells)
        if cell not in redacted and released[cell]
    ]
    return min(candidates)[-1] if candidates else line.total
